package teep

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/teeup/teeup/secure/suit"
)

func seedCorpus(f *testing.F, signed bool) {
	for _, v := range vectors {
		b := readVector(f, v.file)
		isSigned := len(b) > 0 && b[0] == 0xd2
		if isSigned == signed {
			f.Add(b)
		}
	}
	for _, name := range []string{"query_request_err1.cbor", "query_request_err2.cbor", "query_request_err3.cbor"} {
		f.Add(readVector(f, libteep+name))
	}
	if !signed {
		for _, m := range samples() {
			for _, n := range []Numbering{Draft26, Legacy} {
				b, err := Encode(m, n)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
}

// FuzzDecode: no input panics; whatever decodes re-encodes, decodes back
// equal in the same numbering, and canonical input re-encodes byte for
// byte.
func FuzzDecode(f *testing.F) {
	seedCorpus(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, n, err := Decode(data, Draft26)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error outside ErrMalformed: %v", err)
			}
			return
		}
		out, err := Encode(m, n)
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		back, err := DecodeAs(out, n)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, back)
		}
		if isCanonical(data) && !bytes.Equal(out, data) {
			t.Fatalf("canonical input re-encoded differently:\n%x\n%x", data, out)
		}
	})
}

// FuzzOpen: no input panics Open, and only the key's signatures open.
func FuzzOpen(f *testing.F) {
	seedCorpus(f, true)
	keys := []*suit.Key{loadKey(f, wasmTAM), loadKey(f, wasmAgt), loadKey(f, libAgent)}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Open(data, keys, Draft26)
		if err != nil {
			return
		}
		if _, err := Encode(s.Message, s.Numbering); err != nil {
			t.Fatalf("opened but does not encode: %v", err)
		}
	})
}

// TestDecodeAllocationBounded: a message that declares huge lengths
// allocates nothing near them. (Not parallel: it reads the process's
// allocation counter.)
func TestDecodeAllocationBounded(t *testing.T) {
	inputs := [][]byte{
		{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},                            // array of 2^64-1
		{0x82, 0x04, 0xa1, 0x18, 0x64, 0x5b, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0x00},       // bstr of ~512 GiB
		{0x82, 0x04, 0xbb, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0x00},                         // map of 2^39 pairs
		append([]byte{0x82, 0x04, 0xa1, 0x18, 0x64}, bytes.Repeat([]byte{0x81}, 1000)...), // deep
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const rounds = 100
	for range rounds {
		for _, in := range inputs {
			if _, _, err := Decode(in, Draft26); err == nil {
				t.Fatalf("%x decoded", in)
			}
		}
	}
	runtime.ReadMemStats(&after)
	perDecode := (after.TotalAlloc - before.TotalAlloc) / (rounds * uint64(len(inputs)))
	if perDecode > 16<<10 {
		t.Fatalf("%d bytes allocated per refused decode", perDecode)
	}
}
