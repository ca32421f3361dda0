package eventlog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
)

func digest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

func bootLog() Log {
	return Log{
		{PCR: MeasurementPCR, Component: "['secure']", Kind: KindManifest, Digest: digest("sm")},
		{PCR: MeasurementPCR, Component: "['secure']", Kind: KindImage, Digest: digest("si")},
		{PCR: MeasurementPCR, Component: "['normal']", Kind: KindManifest, Digest: digest("nm")},
		{PCR: MeasurementPCR, Component: "['normal']", Kind: KindImage, Digest: digest("ni")},
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, l := range []Log{nil, bootLog()} {
		b, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(l) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, l) {
			t.Errorf("got %+v, want %+v", got, l)
		}
		again, _ := got.Marshal()
		if !bytes.Equal(again, b) {
			t.Errorf("re-encoding differs")
		}
	}
}

// TestReplay checks the replay against the extend rule computed by hand.
func TestReplay(t *testing.T) {
	t.Parallel()
	l := bootLog()
	want := make([]byte, sha256.Size)
	for _, e := range l {
		h := sha256.Sum256(append(bytes.Clone(want), e.Digest...))
		want = h[:]
	}
	if got := l.Replay(MeasurementPCR); !bytes.Equal(got, want) {
		t.Errorf("replay %x, want %x", got, want)
	}
	if got := l.Replay(1); !bytes.Equal(got, make([]byte, sha256.Size)) {
		t.Errorf("PCR 1 replays to %x, want zero", got)
	}
	if got := l.PCRs(); !reflect.DeepEqual(got, []int{MeasurementPCR}) {
		t.Errorf("PCRs %v", got)
	}
}

func TestComponents(t *testing.T) {
	t.Parallel()
	m, err := bootLog().Components()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || !bytes.Equal(m["['normal']"].ImageDigest, digest("ni")) || !bytes.Equal(m["['secure']"].ManifestDigest, digest("sm")) {
		t.Errorf("components %+v", m)
	}
	twice := append(bootLog(), bootLog()[1])
	if _, err := twice.Components(); !errors.Is(err, ErrDuplicate) {
		t.Errorf("image measured twice: %v", err)
	}
	half := bootLog()[:3]
	if _, err := half.Components(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("image not measured: %v", err)
	}
}

func TestUnmarshalRefuses(t *testing.T) {
	t.Parallel()
	good, err := bootLog().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	enc := func(l Log) []byte {
		b, err := encMode.Marshal([]Event(l))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	edit := func(f func(l Log)) []byte { l := bootLog(); f(l); return enc(l) }
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"trailing", append(bytes.Clone(good), 0x80)},
		{"not an array", []byte{0xA0}},
		{"PCR out of range", edit(func(l Log) { l[0].PCR = NumPCRs })},
		{"unknown kind", edit(func(l Log) { l[0].Kind = "config" })},
		{"short digest", edit(func(l Log) { l[1].Digest = l[1].Digest[:20] })},
		{"no component", edit(func(l Log) { l[2].Component = "" })},
		{"unknown key", []byte{0x81, 0xA5, 0x01, 0x00, 0x02, 0x61, 'x', 0x03, 0x65, 'i', 'm', 'a', 'g', 'e', 0x04, 0x40, 0x05, 0x00}},
		{"duplicate key", []byte{0x81, 0xA2, 0x01, 0x00, 0x01, 0x00}},
		{"indefinite array", []byte{0x9F, 0xFF}},
		{"too many events", enc(make(Log, MaxEvents+1))},
		{"too long", make([]byte, MaxEncoded+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Unmarshal(tc.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
	// Every strict prefix of a good log fails to decode.
	for i := range good {
		if _, err := Unmarshal(good[:i]); err == nil {
			t.Errorf("prefix of %d bytes decodes", i)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	good, err := bootLog().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Unmarshal(b)
		if err != nil {
			return
		}
		// What decodes re-encodes, and decodes to the same log.
		again, err := l.Marshal()
		if err != nil {
			t.Fatalf("decoded log does not encode: %v", err)
		}
		l2, err := Unmarshal(again)
		if err != nil || !reflect.DeepEqual(l, l2) {
			t.Fatalf("re-decoding differs: %v", err)
		}
	})
}
