package sqlite

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

func TestListsRoundTrip(t *testing.T) {
	t.Parallel()
	tcs := []store.InstalledTC{
		{Component: suit.ComponentID{{}, nil, []byte("x")}, SequenceNumber: 1<<64 - 1, Digest: []byte{}},
		{Component: nil, SequenceNumber: 0, Digest: nil},
		{Component: suit.ComponentID{}, SequenceNumber: 300, Digest: []byte{1, 2}},
	}
	for _, l := range [][]store.InstalledTC{nil, {}, tcs} {
		var got []store.InstalledTC
		col := tcsCol(l)
		if col == nil {
			col = nil // a NULL column
		}
		if err := colTCs(&got).Scan(col); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, l) {
			t.Fatalf("tc-list %#v came back as %#v", l, got)
		}
	}
}

// FuzzListDecode: a corrupt list column (a damaged file) is an error,
// never a panic or an allocation beyond the column's size; what decodes
// re-encodes to the same bytes.
func FuzzListDecode(f *testing.F) {
	f.Add(tcsCol([]store.InstalledTC{{Component: suit.ComponentID{[]byte("TA"), {}}, SequenceNumber: 7, Digest: []byte{9}}}).([]byte))
	f.Add(bytesListCol([][]byte{nil, {}, []byte("digest")}).([]byte))
	f.Add(componentsCol([]suit.ComponentID{nil, {}, {nil}}).([]byte))
	f.Add([]byte{listFormat, 0})
	f.Add([]byte{listFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		var tcs []store.InstalledTC
		if err := colTCs(&tcs).Scan(b); err == nil {
			if again := tcsCol(tcs).([]byte); !bytes.Equal(again, b) {
				t.Fatalf("tc-list %x re-encodes as %x", b, again)
			}
		}
		var bs [][]byte
		if err := colBytesList(&bs).Scan(b); err == nil {
			if again := bytesListCol(bs).([]byte); !bytes.Equal(again, b) {
				t.Fatalf("list %x re-encodes as %x", b, again)
			}
		}
		var cs []suit.ComponentID
		if err := colComponents(&cs).Scan(b); err == nil {
			if again := componentsCol(cs).([]byte); !bytes.Equal(again, b) {
				t.Fatalf("components %x re-encode as %x", b, again)
			}
		}
	})
}
