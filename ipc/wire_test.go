package ipc

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Valid messages, one of each kind; the golden files are their encodings.
func testRequests() []struct {
	name string
	req  *Request
} {
	return []struct {
		name string
		req  *Request
	}{
		{"request-query", &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: QueryArgs{}}},
		{"request-start-update", &Request{Version: ProtocolVersion, ID: 2, Op: OpStartUpdate, Args: StartUpdateArgs{Envelope: []byte{0xd8, 0x6b, 0xa2, 0x02, 0x40, 0x03, 0x40}}}},
		{"request-write-chunk", &Request{Version: ProtocolVersion, ID: 3, Op: OpWriteChunk, Args: WriteChunkArgs{Set: 42, Payload: 1, Offset: 4096, Data: []byte{0xde, 0xad, 0xbe, 0xef}}}},
		{"request-finish", &Request{Version: ProtocolVersion, ID: 4, Op: OpFinish, Args: FinishArgs{Set: 42, Payload: 1}}},
		{"request-install", &Request{Version: ProtocolVersion, ID: 5, Op: OpInstall, Args: InstallArgs{Set: 42}}},
		{"request-accept", &Request{Version: ProtocolVersion, ID: 6, Op: OpAccept, Args: AcceptArgs{}}},
		{"request-reject", &Request{Version: ProtocolVersion, ID: 7, Op: OpReject, Args: RejectArgs{}}},
		{"request-relay-teep", &Request{Version: ProtocolVersion, ID: 8, Op: OpRelayTEEP, Args: RelayTEEPArgs{Message: []byte{0x83, 0x01, 0xa0, 0x40}}}},
		{"request-get-evidence", &Request{Version: ProtocolVersion, ID: 9, Op: OpGetEvidence, Args: GetEvidenceArgs{Nonce: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}},
		{"request-write-shared", &Request{Version: ProtocolVersion, ID: 11, Op: OpWriteShared, Args: WriteSharedArgs{Set: 42, Payload: 1, Offset: 1 << 20, Start: 2 << 20, Length: 1 << 20}}},
		{"request-cancel", &Request{Version: ProtocolVersion, ID: 12, Op: OpCancel, Args: CancelArgs{Set: 42}}},
		{"request-clean", &Request{Version: ProtocolVersion, ID: 13, Op: OpClean, Args: CleanArgs{}}},
		{"request-device-status", &Request{Version: ProtocolVersion, ID: 14, Op: OpDeviceStatus, Args: DeviceStatusArgs{}}},
	}
}

func testResponses() []struct {
	name string
	op   Op
	resp *Response
} {
	return []struct {
		name string
		op   Op
		resp *Response
	}{
		{"response-query", OpQuery, &Response{Version: ProtocolVersion, ID: 1, Result: []ComponentInfo{
			{ID: [][]byte{{0x00}, []byte("fw")}, State: StateReady, SequenceNumber: 3, Digest: []byte{0x82, 0x2f, 0x42, 0xab, 0xcd}, Size: 1024},
		}}},
		{"response-start-update", OpStartUpdate, &Response{Version: ProtocolVersion, ID: 2, Result: StartResult{Set: 42, Payloads: []PayloadRequest{
			{Index: 1, Component: [][]byte{{0x00}}, URI: "https://x.example/fw", Size: 65536},
		}}}},
		{"response-write-chunk", OpWriteChunk, &Response{Version: ProtocolVersion, ID: 3}},
		{"response-write-shared", OpWriteShared, &Response{Version: ProtocolVersion, ID: 11}},
		{"response-finish", OpFinish, &Response{Version: ProtocolVersion, ID: 4}},
		{"response-install", OpInstall, &Response{Version: ProtocolVersion, ID: 5}},
		{"response-accept", OpAccept, &Response{Version: ProtocolVersion, ID: 6}},
		{"response-reject", OpReject, &Response{Version: ProtocolVersion, ID: 7}},
		{"response-cancel", OpCancel, &Response{Version: ProtocolVersion, ID: 12}},
		{"response-clean", OpClean, &Response{Version: ProtocolVersion, ID: 13}},
		{"response-device-status", OpDeviceStatus, &Response{Version: ProtocolVersion, ID: 14, Result: DeviceStatusResult{
			State: "trial", Set: []string{"normal"}, TrialBoots: 1, Generation: 9, LastOutcome: "installed",
			Components: []ComponentStatus{{Component: "normal", Counter: 1,
				Primary:   SlotStatus{SequenceNumber: 2, ManifestDigest: []byte{0x82, 0x2f, 0x41, 0x01}, ImageDigest: []byte{0x02}, Size: 4096},
				Secondary: SlotStatus{ManifestDigest: []byte{}, ImageDigest: []byte{}, Error: "empty slot"}}},
			TAs: []TAStatus{{ID: [][]byte{[]byte("TA"), []byte("acme")}, SequenceNumber: 3, Flags: TAPersonalized, Size: 5, SHA256: []byte{0x03}}},
		}}},
		{"response-relay-teep", OpRelayTEEP, &Response{Version: ProtocolVersion, ID: 8, Result: RelayTEEPResult{Payloads: []PayloadRequest{}, Message: []byte{0x82, 0x02, 0xa0}}}},
		{"response-relay-teep-payloads", OpRelayTEEP, &Response{Version: ProtocolVersion, ID: 8, Result: RelayTEEPResult{Set: 43, Payloads: []PayloadRequest{
			{Index: 0, Component: [][]byte{[]byte("TA"), []byte("acme")}, URI: "https://tam.example/payloads/ab", Size: 512},
		}, Message: []byte{}}}},
		{"response-relay-teep-reboot", OpRelayTEEP, &Response{Version: ProtocolVersion, ID: 8, Result: RelayTEEPResult{Set: 44, Payloads: []PayloadRequest{}, Reboot: true, Message: []byte{0x82, 0x05, 0xa0}}}},
		{"response-get-evidence", OpGetEvidence, &Response{Version: ProtocolVersion, ID: 9, Result: EvidenceResult{Evidence: []byte{0xd2, 0x84}}}},
		{"response-error-bad-state", OpInstall, &Response{Version: ProtocolVersion, ID: 10, Status: BadState, Message: "payload 1 not finished"}},
		{"response-error-malformed", OpQuery, &Response{Version: ProtocolVersion, ID: 0, Status: Malformed, Message: "decode request"}},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, tc := range testRequests() {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, EncodeRequest, tc.req)
			got, err := DecodeRequest(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.req) {
				t.Fatalf("decoded %+v, want %+v", got, tc.req)
			}
			if again := mustEncode(t, EncodeRequest, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoded %x, first %x", again, b)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, tc := range testResponses() {
		t.Run(tc.name, func(t *testing.T) {
			b := mustEncode(t, EncodeResponse, tc.resp)
			got, err := DecodeResponse(b, tc.op)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.resp) {
				t.Fatalf("decoded %+v, want %+v", got, tc.resp)
			}
			if again := mustEncode(t, EncodeResponse, got); !bytes.Equal(again, b) {
				t.Fatalf("re-encoded %x, first %x", again, b)
			}
		})
	}
}

func TestHelloRoundTrip(t *testing.T) {
	h := &Hello{Version: ProtocolVersion, Role: RoleNormal}
	got, err := DecodeHello(mustEncode(t, EncodeHello, h))
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("hello: %+v, %v", got, err)
	}
	r := &HelloReply{Version: ProtocolVersion, MaxFrame: MaxFrame, MaxChunk: MaxChunk}
	gotR, err := DecodeHelloReply(mustEncode(t, EncodeHelloReply, r))
	if err != nil || !reflect.DeepEqual(gotR, r) {
		t.Fatalf("hello reply: %+v, %v", gotR, err)
	}
}

// golden is one message with a golden encoding in testdata/<name>.hex.
type golden struct {
	name   string
	encode func() ([]byte, error)
	decode func([]byte) (any, error)
	want   any
}

func goldens() []golden {
	hello := &Hello{Version: ProtocolVersion, Role: RoleNormal}
	reply := &HelloReply{Version: ProtocolVersion, MaxFrame: MaxFrame, MaxChunk: MaxChunk}
	gs := []golden{
		{"hello", func() ([]byte, error) { return EncodeHello(hello) },
			func(b []byte) (any, error) { return DecodeHello(b) }, hello},
		{"hello-reply", func() ([]byte, error) { return EncodeHelloReply(reply) },
			func(b []byte) (any, error) { return DecodeHelloReply(b) }, reply},
	}
	for _, tc := range testRequests() {
		gs = append(gs, golden{tc.name, func() ([]byte, error) { return EncodeRequest(tc.req) },
			func(b []byte) (any, error) { return DecodeRequest(b) }, tc.req})
	}
	for _, tc := range testResponses() {
		gs = append(gs, golden{tc.name, func() ([]byte, error) { return EncodeResponse(tc.resp) },
			func(b []byte) (any, error) { return DecodeResponse(b, tc.op) }, tc.resp})
	}
	return gs
}

// TestGolden pins the encoding of every message kind. The files hold
// annotated hex: one head per line, indented by depth, with what it means
// after '#'. Regenerate with go test -run TestGolden -update.
func TestGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			b, err := g.encode()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", g.name+".hex")
			if *update {
				text := fmt.Sprintf("# %s: %+v\n%s", g.name, g.want, annotate(b, labels(g.want)))
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			want, err := parseAnnotatedHex(string(text))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("encoding changed:\n got %x\nwant %x\n%s", b, want, annotate(b, labels(g.want)))
			}
			got, err := g.decode(want)
			if err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if !reflect.DeepEqual(got, g.want) {
				t.Fatalf("golden decodes to %+v, want %+v", got, g.want)
			}
		})
	}
}

func parseAnnotatedHex(text string) ([]byte, error) {
	var out []byte
	for _, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.Join(strings.Fields(line), "")
		b, err := hex.DecodeString(line)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// labels names the heads of the encoding of v, in the order annotate
// meets them, from the Go field names.
func labels(v any) []string {
	switch v := v.(type) {
	case *Request:
		return append([]string{"Request", "Version", "ID", "Op"}, valueLabels(fmt.Sprintf("Args %T", v.Args), reflect.ValueOf(v.Args))...)
	case *Response:
		l := []string{"Response", "Version", "ID", "Status", "Message"}
		if v.Result == nil {
			return append(l, "Result: none")
		}
		return append(l, valueLabels(fmt.Sprintf("Result %T", v.Result), reflect.ValueOf(v.Result))...)
	}
	rv := reflect.ValueOf(v)
	return valueLabels(reflect.Indirect(rv).Type().Name(), rv)
}

func valueLabels(name string, v reflect.Value) []string {
	switch v.Kind() {
	case reflect.Pointer:
		return valueLabels(name, v.Elem())
	case reflect.Struct:
		out := []string{name}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Name != "_" {
				out = append(out, valueLabels(f.Name, v.Field(i))...)
			}
		}
		return out
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return []string{name}
		}
		out := []string{name}
		for i := range v.Len() {
			out = append(out, valueLabels(fmt.Sprintf("%s[%d]", name, i), v.Index(i))...)
		}
		return out
	}
	return []string{name}
}

// annotate renders well-formed definite-length CBOR one head per line,
// each with its meaning and, if given, its label.
func annotate(b []byte, labels []string) string {
	var sb strings.Builder
	off, n := 0, 0
	var item func(depth int)
	item = func(depth int) {
		start := off
		major, ai := b[off]>>5, b[off]&0x1f
		off++
		arg := uint64(ai)
		if ai >= 24 && ai <= 27 {
			n := 1 << (ai - 24)
			arg = 0
			for _, c := range b[off : off+n] {
				arg = arg<<8 | uint64(c)
			}
			off += n
		}
		head := hex.EncodeToString(b[start:off])
		var content, what string
		switch major {
		case 0:
			what = fmt.Sprintf("unsigned(%d)", arg)
		case 1:
			what = fmt.Sprintf("negative(-1-%d)", arg)
		case 2:
			content = hex.EncodeToString(b[off : off+int(arg)])
			off += int(arg)
			what = fmt.Sprintf("bytes(%d)", arg)
		case 3:
			s := string(b[off : off+int(arg)])
			content = hex.EncodeToString(b[off : off+int(arg)])
			off += int(arg)
			what = fmt.Sprintf("text(%d) %q", arg, s)
		case 4:
			what = fmt.Sprintf("array(%d)", arg)
		case 5:
			what = fmt.Sprintf("map(%d)", arg)
		case 6:
			what = fmt.Sprintf("tag(%d)", arg)
		case 7:
			what = fmt.Sprintf("simple(%d)", arg)
		}
		line := strings.Repeat("   ", depth) + head
		if content != "" {
			line += " " + content
		}
		if n < len(labels) {
			what += ": " + labels[n]
		}
		n++
		fmt.Fprintf(&sb, "%-44s # %s\n", line, what)
		switch major {
		case 4:
			for range arg {
				item(depth + 1)
			}
		case 5:
			for range 2 * arg {
				item(depth + 1)
			}
		case 6:
			item(depth + 1)
		}
	}
	for off < len(b) {
		item(0)
	}
	return sb.String()
}

// wire is a test-only encoder of arbitrary shapes, to build invalid
// messages with the package's own deterministic encoder.
func wire(t *testing.T, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestDecodeRequestRefuses(t *testing.T) {
	valid := mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: QueryArgs{}})
	req := func(version, id uint64, op Op, args any) []byte {
		return wire(t, requestWire{Version: version, ID: id, Op: op, Args: wire(t, args)})
	}
	// reqRaw builds [ProtocolVersion, 1, WriteChunk, args] with args given as bytes.
	reqRaw := func(args ...byte) []byte { return cat([]byte{0x84, ProtocolVersion, 0x01, 0x03}, args) }
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"not CBOR", []byte{0xff}, ErrMalformed},
		{"truncated", valid[:len(valid)-1], ErrMalformed},
		{"empty array", []byte{0x80}, ErrMalformed},
		{"trailing byte", cat(valid, []byte{0x00}), ErrMalformed},
		{"two requests", cat(valid, valid), ErrMalformed},
		{"unknown op", req(ProtocolVersion, 1, 99, QueryArgs{}), ErrUnknownOp},
		{"op zero", req(ProtocolVersion, 1, 0, QueryArgs{}), ErrUnknownOp},
		{"op over uint32", wire(t, []any{ProtocolVersion, 1, uint64(1) << 32, []any{}}), ErrMalformed},
		{"next version", req(ProtocolVersion+1, 1, OpQuery, QueryArgs{}), ErrVersionMismatch},
		{"version 0", req(0, 1, OpQuery, QueryArgs{}), ErrVersionMismatch},
		{"ID 0", req(ProtocolVersion, 0, OpQuery, QueryArgs{}), ErrMalformed},
		{"duplicate map keys", []byte{0xa2, 0x01, 0x01, 0x01, 0x02}, ErrMalformed},
		{"duplicate map keys in args", reqRaw(0xa2, 0x01, 0x01, 0x01, 0x02), ErrMalformed},
		{"map for the request", wire(t, map[int]any{0: 1, 1: 1, 2: 1, 3: []any{}}), ErrMalformed},
		{"indefinite-length array", []byte{0x9f, 0x01, 0x01, 0x01, 0x80, 0xff}, ErrMalformed},
		{"indefinite-length data", reqRaw(0x84, 0x01, 0x01, 0x01, 0x5f, 0x41, 0x00, 0xff), ErrMalformed},
		{"tagged args", reqRaw(0xd8, 0x18, 0x80), ErrMalformed},
		{"tagged request", cat([]byte{0xc1}, valid), ErrMalformed},
		{"null data", reqRaw(0x84, 0x01, 0x01, 0x01, 0xf6), ErrMalformed},
		{"undefined data", reqRaw(0x84, 0x01, 0x01, 0x01, 0xf7), ErrMalformed},
		{"simple value for an integer", reqRaw(0x84, 0xf2, 0x01, 0x01, 0x40), ErrMalformed},
		{"false for an integer", reqRaw(0x84, 0xf4, 0x01, 0x01, 0x40), ErrMalformed},
		{"two-byte simple value", reqRaw(0x84, 0xf8, 0x20, 0x01, 0x01, 0x40), ErrMalformed},
		{"array for data", reqRaw(0x84, 0x01, 0x01, 0x01, 0x82, 0x01, 0x02), ErrMalformed},
		{"text for data", reqRaw(0x84, 0x01, 0x01, 0x01, 0x61, 0x61), ErrMalformed},
		{"float set", reqRaw(0x84, 0xf9, 0x3c, 0x00, 0x01, 0x01, 0x40), ErrMalformed},
		{"negative offset", reqRaw(0x84, 0x01, 0x01, 0x20, 0x40), ErrMalformed},
		{"payload over uint32", wire(t, []any{ProtocolVersion, 1, OpWriteChunk, []any{1, uint64(1) << 32, 0, []byte{1}}}), ErrMalformed},
		{"long-form head", reqRaw(0x84, 0x18, 0x01, 0x01, 0x01, 0x40), ErrMalformed},
		{"long-form length", reqRaw(0x84, 0x01, 0x01, 0x01, 0x58, 0x01, 0xaa), ErrMalformed},
		{"too few args", reqRaw(0x83, 0x01, 0x01, 0x01), ErrMalformed},
		{"too many args", wire(t, []any{ProtocolVersion, 1, OpQuery, []any{0}}), ErrMalformed},
		{"args of another op", req(ProtocolVersion, 1, OpWriteChunk, FinishArgs{Set: 1, Payload: 1}), ErrMalformed},
		{"too few fields", []byte{0x83, 0x01, 0x01, 0x01}, ErrMalformed},
		{"too many fields", []byte{0x85, 0x02, 0x01, 0x01, 0x80, 0x00}, ErrMalformed},
		{"nesting too deep", wire(t, []any{1, 1, OpQuery, []any{[]any{[]any{[]any{[]any{[]any{[]any{[]any{[]any{}}}}}}}}}}), ErrMalformed},
		{"too many elements", wire(t, []any{1, 1, OpQuery, make([]int, maxArrayElements+1)}), ErrMalformed},
		{"envelope over bound", req(ProtocolVersion, 1, OpStartUpdate, StartUpdateArgs{Envelope: make([]byte, MaxEnvelope+1)}), ErrLimitExceeded},
		{"chunk over bound", req(ProtocolVersion, 1, OpWriteChunk, WriteChunkArgs{Data: make([]byte, MaxChunk+1)}), ErrLimitExceeded},
		{"TEEP message over bound", req(ProtocolVersion, 1, OpRelayTEEP, RelayTEEPArgs{Message: make([]byte, MaxTEEPMessage+1)}), ErrLimitExceeded},
		{"nonce over bound", req(ProtocolVersion, 1, OpGetEvidence, GetEvidenceArgs{Nonce: make([]byte, MaxNonce+1)}), ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeRequest(tc.body)
			if got != nil {
				t.Errorf("returned a request with the error: %+v", got)
			}
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

func TestDecodeResponseRefuses(t *testing.T) {
	resp := func(status Code, msg string, result any) []byte {
		return wire(t, responseWire{Version: ProtocolVersion, ID: 1, Status: status, Message: msg, Result: wire(t, result)})
	}
	component := func(mod func(*ComponentInfo)) ComponentInfo {
		c := ComponentInfo{ID: [][]byte{{0}}, State: StateReady, Digest: []byte{1}}
		mod(&c)
		return c
	}
	many := func(n int) []ComponentInfo {
		return make([]ComponentInfo, n)
	}
	for _, tc := range []struct {
		name string
		op   Op
		body []byte
		want error
	}{
		{"next version", OpAccept, wire(t, responseWire{Version: ProtocolVersion + 1, ID: 1, Result: wire(t, noResult{})}), ErrVersionMismatch},
		{"unknown status", OpAccept, resp(99, "x", noResult{}), ErrMalformed},
		{"status never sent", OpAccept, resp(IDMismatch, "x", noResult{}), ErrMalformed},
		{"transport status", OpAccept, resp(IO, "x", noResult{}), ErrMalformed},
		{"message with ok", OpAccept, resp(OK, "x", noResult{}), ErrMalformed},
		{"result with error", OpRelayTEEP, resp(BadState, "x", RelayTEEPResult{Message: []byte{1}}.wire()), ErrMalformed},
		{"result for no-result op", OpInstall, resp(OK, "", RelayTEEPResult{Message: []byte{1}}.wire()), ErrMalformed},
		{"reboot flag neither 0 nor 1", OpRelayTEEP, resp(OK, "", relayTEEPWire{Reboot: 2}), ErrMalformed},
		{"reboot flag a boolean", OpRelayTEEP, resp(OK, "", []any{0, []any{}, true, []byte{}}), ErrMalformed},
		{"TEEP payloads over bound", OpRelayTEEP, resp(OK, "", relayTEEPWire{Payloads: make([]PayloadRequest, MaxPayloads+1)}), ErrLimitExceeded},
		{"TEEP payload URI over bound", OpRelayTEEP, resp(OK, "", relayTEEPWire{Payloads: []PayloadRequest{{URI: strings.Repeat("u", MaxURI+1)}}}), ErrLimitExceeded},
		{"TEEP message over bound in result", OpRelayTEEP, resp(OK, "", relayTEEPWire{Message: make([]byte, MaxTEEPMessage+1)}), ErrLimitExceeded},
		{"null result", OpInstall, wire(t, []any{ProtocolVersion, 1, 0, "", nil}), ErrMalformed},
		{"result of another op", OpQuery, resp(OK, "", StartResult{Set: 1}), ErrMalformed},
		{"message over bound", OpAccept, resp(Busy, strings.Repeat("x", MaxMessage+1), noResult{}), ErrLimitExceeded},
		{"message not UTF-8", OpAccept, []byte{0x85, 0x02, 0x01, 0x02, 0x61, 0xff, 0x80}, ErrMalformed},
		{"unknown state", OpQuery, resp(OK, "", []ComponentInfo{component(func(c *ComponentInfo) { c.State = "BOGUS" })}), ErrMalformed},
		{"digest over bound", OpQuery, resp(OK, "", []ComponentInfo{component(func(c *ComponentInfo) { c.Digest = make([]byte, MaxDigest+1) })}), ErrLimitExceeded},
		{"component ID parts over bound", OpQuery, resp(OK, "", []ComponentInfo{component(func(c *ComponentInfo) { c.ID = make([][]byte, MaxComponentIDParts+1) })}), ErrLimitExceeded},
		{"component ID part over bound", OpQuery, resp(OK, "", []ComponentInfo{component(func(c *ComponentInfo) { c.ID = [][]byte{make([]byte, MaxComponentIDPart+1)} })}), ErrLimitExceeded},
		{"components over bound", OpQuery, resp(OK, "", many(MaxComponents+1)), ErrLimitExceeded},
		{"components over decoder bound", OpQuery, resp(OK, "", many(maxArrayElements+1)), ErrMalformed},
		{"payloads over bound", OpStartUpdate, resp(OK, "", StartResult{Payloads: make([]PayloadRequest, MaxPayloads+1)}), ErrLimitExceeded},
		{"URI over bound", OpStartUpdate, resp(OK, "", StartResult{Payloads: []PayloadRequest{{URI: strings.Repeat("u", MaxURI+1)}}}), ErrLimitExceeded},
		{"evidence over bound", OpGetEvidence, resp(OK, "", EvidenceResult{Evidence: make([]byte, MaxEvidence+1)}), ErrLimitExceeded},
		{"unknown op", 99, resp(OK, "", noResult{}), ErrUnknownOp},
		{"trailing byte", OpAccept, cat(resp(OK, "", noResult{}), []byte{0}), ErrMalformed},
		{"simple value for status", OpAccept, []byte{0x85, ProtocolVersion, 0x02, 0xe1, 0x60, 0x80}, ErrMalformed},
		{"array for evidence", OpGetEvidence, resp(OK, "", []any{[]int{1, 2}}), ErrMalformed},
		{"long-form ID", OpAccept, []byte{0x85, ProtocolVersion, 0x18, 0x02, 0x00, 0x60, 0x80}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeResponse(tc.body, tc.op)
			if got != nil {
				t.Errorf("returned a response with the error: %+v", got)
			}
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

func TestDecodeHelloRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"empty array", []byte{0x80}},
		{"three fields", []byte{0x83, 0x01, 0x01, 0x01}},
		{"role over uint8", []byte{0x82, 0x01, 0x19, 0x01, 0x00}},
		{"trailing byte", []byte{0x82, 0x01, 0x01, 0x00}},
		{"long-form version", []byte{0x82, 0x18, 0x01, 0x01}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeHello(tc.body)
			wantErr(t, err, ErrProtocol, ErrMalformed)
		})
	}
}

func TestEncodeRequestRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  *Request
		want error
	}{
		{"args of another op", &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: FinishArgs{}}, ErrMalformed},
		{"pointer args", &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: &QueryArgs{}}, ErrMalformed},
		{"nil args", &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery}, ErrMalformed},
		{"unknown op", &Request{Version: ProtocolVersion, ID: 1, Op: 99, Args: QueryArgs{}}, ErrMalformed},
		{"chunk over bound", &Request{Version: ProtocolVersion, ID: 1, Op: OpWriteChunk, Args: WriteChunkArgs{Data: make([]byte, MaxChunk+1)}}, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeRequest(tc.req)
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

func TestEncodeResponseRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp *Response
		want error
	}{
		{"status never sent", &Response{Version: ProtocolVersion, ID: 1, Status: IDMismatch}, ErrMalformed},
		{"unknown status", &Response{Version: ProtocolVersion, ID: 1, Status: 99}, ErrMalformed},
		{"result with error", &Response{Version: ProtocolVersion, ID: 1, Status: Busy, Result: EvidenceResult{}}, ErrMalformed},
		{"message with ok", &Response{Version: ProtocolVersion, ID: 1, Message: "x"}, ErrMalformed},
		{"result of no known type", &Response{Version: ProtocolVersion, ID: 1, Result: 7}, ErrMalformed},
		{"pointer result", &Response{Version: ProtocolVersion, ID: 1, Result: &StartResult{}}, ErrMalformed},
		{"unknown state", &Response{Version: ProtocolVersion, ID: 1, Result: []ComponentInfo{{State: "BOGUS"}}}, ErrMalformed},
		{"message not UTF-8", &Response{Version: ProtocolVersion, ID: 1, Status: Busy, Message: "\xff"}, ErrMalformed},
		{"message over bound", &Response{Version: ProtocolVersion, ID: 1, Status: Busy, Message: strings.Repeat("x", MaxMessage+1)}, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := EncodeResponse(tc.resp)
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

// TestWorstCaseFitsFrame checks that the bounds of limits.go agree: every
// message at its largest still fits in a frame.
func TestWorstCaseFitsFrame(t *testing.T) {
	const maxU64 = ^uint64(0)
	id := func() [][]byte {
		parts := make([][]byte, MaxComponentIDParts)
		for i := range parts {
			parts[i] = make([]byte, MaxComponentIDPart)
		}
		return parts
	}
	components := make([]ComponentInfo, MaxComponents)
	for i := range components {
		components[i] = ComponentInfo{ID: id(), State: StateCandidate, SequenceNumber: maxU64, Digest: make([]byte, MaxDigest), Size: maxU64}
	}
	payloads := make([]PayloadRequest, MaxPayloads)
	for i := range payloads {
		payloads[i] = PayloadRequest{Index: ^uint32(0), Component: id(), URI: strings.Repeat("u", MaxURI), Size: maxU64}
	}
	reqs := []*Request{
		{Version: maxU64, ID: maxU64, Op: OpWriteChunk, Args: WriteChunkArgs{Set: maxU64, Payload: ^uint32(0), Offset: maxU64, Data: make([]byte, MaxChunk)}},
		{Version: maxU64, ID: maxU64, Op: OpStartUpdate, Args: StartUpdateArgs{Envelope: make([]byte, MaxEnvelope)}},
		{Version: maxU64, ID: maxU64, Op: OpRelayTEEP, Args: RelayTEEPArgs{Message: make([]byte, MaxTEEPMessage)}},
	}
	for _, r := range reqs {
		if b := mustEncode(t, EncodeRequest, r); len(b) > MaxFrame {
			t.Errorf("largest %v request: %d bytes, MaxFrame %d", r.Op, len(b), MaxFrame)
		}
	}
	resps := []*Response{
		{Version: maxU64, ID: maxU64, Result: components},
		{Version: maxU64, ID: maxU64, Result: StartResult{Set: maxU64, Payloads: payloads}},
		{Version: maxU64, ID: maxU64, Result: RelayTEEPResult{Message: make([]byte, MaxTEEPMessage)}},
		{Version: maxU64, ID: maxU64, Result: EvidenceResult{Evidence: make([]byte, MaxEvidence)}},
		{Version: maxU64, ID: maxU64, Status: Internal, Message: strings.Repeat("m", MaxMessage)},
	}
	for _, r := range resps {
		if b := mustEncode(t, EncodeResponse, r); len(b) > MaxFrame {
			t.Errorf("largest %T response: %d bytes, MaxFrame %d", r.Result, len(b), MaxFrame)
		}
	}
}

// TestSpliceMatchesEncoder checks the zero-copy encoding of large byte
// strings against the plain encoding of the whole message, at every head
// size.
func TestSpliceMatchesEncoder(t *testing.T) {
	for _, n := range []int{0, 1, 23, 24, 255, 256, 65535, 65536, MaxChunk} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			data := bytes.Repeat([]byte{0x5a}, n)
			args := WriteChunkArgs{Set: 1, Payload: 2, Offset: 3, Data: data}
			want := wire(t, requestWire{Version: ProtocolVersion, ID: 9, Op: OpWriteChunk, Args: wire(t, args)})
			got := mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 9, Op: OpWriteChunk, Args: args})
			if !bytes.Equal(got, want) {
				t.Fatalf("request: spliced encoding differs from the encoder's")
			}
			res := EvidenceResult{Evidence: data}
			want = wire(t, responseWire{Version: ProtocolVersion, ID: 9, Result: wire(t, res)})
			got = mustEncode(t, EncodeResponse, &Response{Version: ProtocolVersion, ID: 9, Result: res})
			if !bytes.Equal(got, want) {
				t.Fatalf("response: spliced encoding differs from the encoder's")
			}
			if _, err := DecodeRequest(mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 9, Op: OpWriteChunk, Args: args})); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDecodeRequestChunkData: the server's decoder leaves the data of a
// WriteChunk in the frame, which it reuses; DecodeRequest copies it out.
func TestDecodeRequestChunkData(t *testing.T) {
	b := mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 3, Op: OpWriteChunk,
		Args: WriteChunkArgs{Set: 42, Payload: 1, Offset: 4096, Data: []byte{0xde, 0xad, 0xbe, 0xef}}})
	inFrame, err := decodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	if got := inFrame.Args.(WriteChunkArgs).Data; !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("decodeRequest: data % x does not alias the frame", got)
	}
	if got := copied.Args.(WriteChunkArgs).Data; !bytes.Equal(got, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Errorf("DecodeRequest: data % x shares the frame", got)
	}
}
