package teep

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

func u64(v uint64) *uint64 { return &v }
func boolp(v bool) *bool   { return &v }
func code(c ErrCode) *ErrCode {
	return &c
}

var (
	token     = []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}
	challenge = bytes.Repeat([]byte{0x5c}, 32)
	tcID      = ComponentID{[]byte("TEEP-Device"), []byte("SecureFS"), {0x8d, 0x82, 0x57, 0x3a}, []byte("ta")}
	// envelope is a minimal SUIT_Envelope map: {2: h'', 3: h''} (the codec
	// checks only that it is one CBOR map).
	envelope = []byte{0xa2, 0x02, 0x40, 0x03, 0x40}
	// report is a SUIT report placeholder: one CBOR map.
	report = []byte{0xa1, 0x01, 0x01}
	claims = cbor.RawMessage{0xa1, 0x00, 0x81, 0x42, 0x01, 0x02}
)

// samples are messages of every type, each option the type has set, and a
// few minimal ones.
func samples() map[string]Message {
	return map[string]Message{
		"query_request": &QueryRequest{
			Token: token, FreshnessMechanisms: []uint64{0, 1}, Challenge: challenge,
			Versions: []uint64{0}, AttestationPayloadFormat: "application/eat+cwt",
			AttestationPayload: []byte{1, 2, 3}, SUITReports: [][]byte{report},
			CipherSuites:     []CipherSuite{SuiteESP256, SuiteEd25519},
			SUITCOSEProfiles: []SUITCOSEProfile{ProfileESP256A128CTR, ProfileEd25519ChaChaPly},
			DataItems:        DataAttestation | DataTrustedComponents,
		},
		"query_request_min": &QueryRequest{Token: token, CipherSuites: []CipherSuite{SuiteESP256},
			SUITCOSEProfiles: []SUITCOSEProfile{}, DataItems: DataTrustedComponents},
		"query_request_draft08": &QueryRequest{Token: token, Versions: []uint64{0},
			CipherSuites: []CipherSuite{{Ops: []Operation{{COSESign1, AlgES256}}, Triple: true}},
			DataItems:    3, Shape: ShapeDraft08},
		"query_response": &QueryResponse{
			Token: token, SelectedVersion: u64(0), AttestationPayloadFormat: "application/eat+cwt",
			AttestationPayload: []byte{}, SUITReports: [][]byte{report},
			TCList:            []cbor.RawMessage{claims},
			RequestedTCList:   []RequestedTC{{ComponentID: tcID, SequenceNumber: u64(3), HaveBinary: boolp(false)}},
			UnneededManifests: []ComponentID{tcID}, ExtList: []uint64{7},
			Extensions: map[uint64]cbor.RawMessage{99: {0x01}},
		},
		"query_response_empty_tc_list": &QueryResponse{Token: token, TCList: []cbor.RawMessage{}},
		"update": &Update{
			Token: token, UnneededManifests: []ComponentID{tcID},
			Manifests:                []Manifest{{Envelope: envelope}, {Envelope: envelope, Tagged: true}},
			AttestationPayloadFormat: "application/ar4si", AttestationPayload: []byte{9},
			ErrCode: code(ErrAttestationRequired), ErrMsg: "attest", ErrLang: "en",
		},
		"success": &Success{Token: token, Msg: "installed", SUITReports: [][]byte{report, report}},
		"error": &Error{
			Token: token, ErrMsg: "disk-full", ErrLang: "en",
			CipherSuites: []CipherSuite{SuiteEd25519}, FreshnessMechanisms: []uint64{0},
			SUITCOSEProfiles: []SUITCOSEProfile{{-7, 1}}, Challenge: challenge, Versions: []uint64{0},
			SUITReports: [][]byte{report}, Code: ErrManifestProcessingFailed,
		},
		"error_unknown_code": &Error{Token: token, Code: UnknownErrCode(99)},
	}
}

// TestRoundTrip: every sample encodes in both numberings, decodes back
// equal, and Decode tells the numbering without being told (the samples
// with a token are never ambiguous).
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for name, m := range samples() {
		for _, n := range []Numbering{Draft26, Legacy} {
			t.Run(name+"/"+n.String(), func(t *testing.T) {
				t.Parallel()
				b, err := Encode(m, n)
				if err != nil {
					t.Fatal(err)
				}
				back, err := DecodeAs(b, n)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(back, m) {
					t.Fatalf("decoded\n%+v\nwant\n%+v", back, m)
				}
				other := Legacy
				if n == Legacy {
					other = Draft26
				}
				if _, got, err := Decode(b, other); err != nil || got != n {
					t.Fatalf("Decode (prefer %s) = %s, %v; want %s", other, got, err, n)
				}
				if !isCanonical(b) {
					t.Fatal("encoding is not core deterministic")
				}
			})
		}
	}
}

// TestGolden pins the encoding of every sample in both numberings
// (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	for name, m := range samples() {
		for _, n := range []Numbering{Draft26, Legacy} {
			b, err := Encode(m, n)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name+"."+n.String()+".cbor")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("%s: %x\nwant %x", path, b, want)
			}
		}
	}
}

// TestGoldenMatchesDraft: the draft's Success and the libteep one are
// what Encode writes for the same message in each numbering.
func TestGoldenMatchesDraft(t *testing.T) {
	t.Parallel()
	m := &Success{Token: token}
	for file, n := range map[string]Numbering{draft26 + "teep_success.cbor": Draft26, legacy + "teep_success.cbor": Legacy} {
		b, err := Encode(m, n)
		if err != nil {
			t.Fatal(err)
		}
		if want := readVector(t, file); !bytes.Equal(b, want) {
			t.Errorf("%s: %x, want %x", file, b, want)
		}
	}
	// The draft's error differs from core deterministic order only in
	// where the token sits; the values are the same.
	e, err := DecodeAs(readVector(t, draft26+"teep_error.cbor"), Draft26)
	if err != nil {
		t.Fatal(err)
	}
	want := &Error{Token: token, ErrMsg: "disk-full", Code: ErrManifestProcessingFailed}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("%+v", e)
	}
	l, err := DecodeAs(readVector(t, legacy+"teep_error.cbor"), Legacy)
	if err != nil || !reflect.DeepEqual(l, want) {
		t.Fatalf("legacy: %+v %v", l, err)
	}
}

// TestPrefixes: every strict prefix of every message fails to decode.
func TestPrefixes(t *testing.T) {
	t.Parallel()
	var msgs [][]byte
	for _, v := range vectors {
		msgs = append(msgs, payloadOf(t, v))
	}
	for _, m := range samples() {
		b, err := Encode(m, Draft26)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
	}
	for _, b := range msgs {
		for i := range len(b) {
			if _, _, err := Decode(b[:i], Draft26); !errors.Is(err, ErrMalformed) {
				t.Fatalf("prefix %d of %x: %v", i, b[:min(len(b), 16)], err)
			}
		}
	}
}

// TestDetect: how Decode tells the numberings apart (Decode's comment).
func TestDetect(t *testing.T) {
	t.Parallel()
	tok19 := append([]byte{0x13, 0x50}, token...)  // 19: h'A0..AF'
	tok20 := append([]byte{0x14, 0x50}, token...)  // 20: h'A0..AF'
	suites := []byte{0x81, 0x81, 0x82, 0x12, 0x28} // [[[18, -9]]]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name   string
		msg    []byte
		prefer Numbering
		want   Numbering
		typ    MessageType
	}{
		{"type 4 is a draft-26 Success", []byte{0x82, 0x04, 0xa0}, Legacy, Draft26, TypeSuccess},
		{"type 6 is a legacy Error", []byte{0x83, 0x06, 0xa0, 0x01}, Draft26, Legacy, TypeError},
		{"type 5 with an err-code is a draft-26 Error", []byte{0x83, 0x05, 0xa0, 0x01}, Legacy, Draft26, TypeError},
		{"type 5 without is a legacy Success", []byte{0x82, 0x05, 0xa0}, Draft26, Legacy, TypeSuccess},
		{"token 19", cat([]byte{0x84, 0x01, 0xa1}, tok19, suites, []byte{0x01}), Legacy, Draft26, TypeQueryRequest},
		{"token 20", cat([]byte{0x84, 0x01, 0xa1}, tok20, suites, []byte{0x01}), Draft26, Legacy, TypeQueryRequest},
		{"update with no options follows prefer", []byte{0x82, 0x03, 0xa0}, Legacy, Legacy, TypeUpdate},
		{"update with no options follows prefer (draft-26)", []byte{0x82, 0x03, 0xa0}, Draft26, Draft26, TypeUpdate},
		// manifest-list 10 (legacy) vs msg 10 (not an Update option in draft-26)
		{"legacy manifest-list", cat([]byte{0x82, 0x03, 0xa1, 0x0a, 0x81, 0x45}, envelope), Draft26, Legacy, TypeUpdate},
		{"draft-26 manifest-list", cat([]byte{0x82, 0x03, 0xa1, 0x09, 0x81, 0x45}, envelope), Legacy, Draft26, TypeUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, n, err := Decode(tt.msg, tt.prefer)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want || m.Type() != tt.typ {
				t.Fatalf("%s in %s, want %s in %s", m.Type(), n, tt.typ, tt.want)
			}
		})
	}
}

// TestTolerated: what real peers send and the codec keeps.
func TestTolerated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		msg   []byte
		n     Numbering
		check func(Message) bool
	}{
		{"unknown err-code", []byte{0x83, 0x05, 0xa0, 0x18, 0x63}, Draft26, func(m Message) bool {
			c := m.(*Error).Code
			return !c.Known() && c.String() == "unknown err-code 99"
		}},
		{"legacy err-code 11 is unknown there", []byte{0x83, 0x06, 0xa0, 0x0b}, Legacy, func(m Message) bool {
			return !m.(*Error).Code.Known()
		}},
		{"legacy err-code 17", []byte{0x83, 0x06, 0xa0, 0x11}, Legacy, func(m Message) bool {
			return m.(*Error).Code == ErrManifestProcessingFailed
		}},
		{"empty tc-list", []byte{0x82, 0x02, 0xa1, 0x07, 0x80}, Draft26, func(m Message) bool {
			l := m.(*QueryResponse).TCList
			return l != nil && len(l) == 0
		}},
		{"extension label", []byte{0x82, 0x04, 0xa1, 0x18, 0x64, 0x63, 'a', 'b', 'c'}, Draft26, func(m Message) bool {
			return bytes.Equal(m.(*Success).Extensions[100], []byte{0x63, 'a', 'b', 'c'})
		}},
		{"tagged SUIT envelope", append([]byte{0x82, 0x03, 0xa1, 0x09, 0x81, 0x47, 0xd8, 0x6b}, envelope...), Draft26, func(m Message) bool {
			mf := m.(*Update).Manifests
			return len(mf) == 1 && mf[0].Tagged && bytes.Equal(mf[0].Envelope, envelope)
		}},
		{"uint token of draft-06", []byte{0x82, 0x03, 0xa1, 0x14, 0x1a, 0x77, 0x77, 0x77, 0x78}, Legacy, func(m Message) bool {
			u := m.(*Update)
			return u.Token == nil && len(u.Extensions) == 1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := DecodeAs(tt.msg, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(m) {
				t.Fatalf("%+v", m)
			}
			b, err := Encode(m, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tt.msg) {
				t.Fatalf("re-encoded %x, want %x", b, tt.msg)
			}
		})
	}
}

// TestRefused: what the strict decoder refuses, and why.
func TestRefused(t *testing.T) {
	t.Parallel()
	tok := func(n int) []byte { return append([]byte{0x13, 0x40 | byte(n)}, bytes.Repeat([]byte{1}, n)...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"not an array", []byte{0xa0}, ErrMalformed},
		{"trailing byte", []byte{0x82, 0x04, 0xa0, 0x00}, ErrMalformed},
		{"duplicate option", cat([]byte{0x82, 0x04, 0xa2}, tok(8), tok(8)), ErrMalformed},
		{"duplicate key in a tc-list claim", []byte{0x82, 0x02, 0xa1, 0x07, 0x81, 0xa2, 0x00, 0x00, 0x00, 0x01}, ErrMalformed},
		{"indefinite options", []byte{0x82, 0x04, 0xbf, 0xff}, ErrMalformed},
		{"indefinite array", []byte{0x9f, 0x04, 0xa0, 0xff}, ErrMalformed},
		{"text option label", []byte{0x82, 0x04, 0xa1, 0x61, 'x', 0x00}, ErrMalformed},
		{"negative option label", []byte{0x82, 0x04, 0xa1, 0x20, 0x00}, ErrMalformed},
		{"unknown type", []byte{0x82, 0x07, 0xa0}, ErrUnknownType},
		{"type 0", []byte{0x82, 0x00, 0xa0}, ErrUnknownType},
		{"success with an err-code", []byte{0x83, 0x04, 0xa0, 0x01}, ErrMalformed},
		{"legacy error without one", []byte{0x82, 0x06, 0xa0}, ErrMalformed},
		{"token of 7 bytes", cat([]byte{0x82, 0x04, 0xa1}, tok(7)), ErrFieldSize},
		{"token of 65 bytes", cat([]byte{0x82, 0x04, 0xa1, 0x13, 0x58, 0x41}, bytes.Repeat([]byte{1}, 65)), ErrFieldSize},
		{"empty msg", []byte{0x82, 0x04, 0xa1, 0x0a, 0x60}, ErrFieldSize},
		{"token of the wrong type", []byte{0x82, 0x04, 0xa1, 0x13, 0x01}, ErrMalformed},
		{"err-code over the limit", []byte{0x83, 0x05, 0xa0, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0}, ErrLimit},
		{"no cipher suites", []byte{0x85, 0x01, 0xa0, 0x80, 0x80, 0x01}, ErrMissing},
		{"suite without signing", []byte{0x85, 0x01, 0xa0, 0x81, 0x81, 0x82, 0x10, 0x01, 0x80, 0x01}, ErrCipherSuite},
		{"requested-tc-info with an unknown key", []byte{0x82, 0x02, 0xa1, 0x0d, 0x81, 0xa2, 0x0f, 0x81, 0x40, 0x18, 0x63, 0x00}, ErrMalformed},
		{"requested-tc-info without component-id", []byte{0x82, 0x02, 0xa1, 0x0d, 0x81, 0xa1, 0x10, 0x01}, ErrMissing},
		{"manifest that is not a map", []byte{0x82, 0x03, 0xa1, 0x09, 0x81, 0x41, 0x01}, ErrMalformed},
		{"too many manifests", cat([]byte{0x82, 0x03, 0xa1, 0x09, 0x91}, bytes.Repeat(cat([]byte{0x45}, envelope), 17)), ErrLimit},
		{"too deep", cat([]byte{0x82, 0x04, 0xa1, 0x18, 0x64}, bytes.Repeat([]byte{0x81}, MaxNesting), []byte{0x00}), ErrLimit},
		{"huge declared length", []byte{0x82, 0x04, 0xa1, 0x18, 0x64, 0x5b, 0, 0, 0, 1, 0, 0, 0, 0}, ErrMalformed},
		{"too large", cat([]byte{0x82, 0x04, 0xa1, 0x18, 0x64, 0x5a, 0, 2, 0, 0}, make([]byte, 2<<16)), ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, n := range []Numbering{Draft26, Legacy} {
				if _, _, err := Decode(tt.msg, n); !errors.Is(err, tt.want) {
					t.Fatalf("Decode (prefer %s): %v, want %v", n, err, tt.want)
				}
			}
		})
	}
}

// TestEncodeRefuses: Encode never writes what Decode would refuse.
func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Message
	}{
		{"short token", &Success{Token: []byte{1}}},
		{"no cipher suites", &QueryRequest{}},
		{"extension on a defined label", &Success{Extensions: map[uint64]cbor.RawMessage{10: {0x61, 'x'}}}},
		{"draft-08 shape with profiles", &QueryRequest{Shape: ShapeDraft08, CipherSuites: []CipherSuite{SuiteESP256}, SUITCOSEProfiles: []SUITCOSEProfile{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Encode(tt.m, Draft26); !errors.Is(err, ErrEncode) {
				t.Fatalf("%v, want ErrEncode", err)
			}
		})
	}
}

func TestErrCodeString(t *testing.T) {
	t.Parallel()
	tests := map[ErrCode]string{
		ErrPermanentError:           "ERR_PERMANENT_ERROR",
		ErrManifestProcessingFailed: "ERR_MANIFEST_PROCESSING_FAILED",
		ErrTemporaryError:           "ERR_TEMPORARY_ERROR",
		UnknownErrCode(12):          "unknown err-code 12",
	}
	for c, want := range tests {
		if c.String() != want {
			t.Errorf("%d: %q, want %q", uint64(c), c.String(), want)
		}
	}
	for w := uint64(0); w < 30; w++ {
		for _, n := range []Numbering{Draft26, Legacy} {
			if got := errCodeOf(w, n).wire(n); got != w {
				t.Errorf("%s: wire %d reads back as %d", n, w, got)
			}
		}
	}
}
