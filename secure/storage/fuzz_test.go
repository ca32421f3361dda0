package storage

import (
	"testing"

	"github.com/teeup/teeup/secure/storage/storagetest"
)

// FuzzReadBank reads whatever a bank holds: a record or nothing, never a
// panic or a read past the bank.
func FuzzReadBank(f *testing.F) {
	rec := &bankRecord{generation: 3, sealed: []byte("sealed"), nonce: make([]byte, nonceSize), ciphertext: []byte("ciphertext")}
	f.Add(rec.encode(16))
	f.Add([]byte("teeupSS\x01\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff\x00\x00\x00\x01"))
	r := Region{Off: 0, BankSectors: 1, SectorSize: 512, WriteAlign: 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl := storagetest.NewFlash(t, 1024, 512, 16)
		data = data[:min(len(data), 512)]
		padded := append(data[:len(data):len(data)], make([]byte, (16-len(data)%16)%16)...)
		if err := fl.Program(0, padded); err != nil {
			t.Fatal(err)
		}
		got, err := r.readBank(fl, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got != nil && headerSize+len(got.sealed)+nonceSize+len(got.ciphertext)+sumSize > 512 {
			t.Fatal("a record larger than its bank")
		}
	})
}

// FuzzDecodeState decodes arbitrary plaintext as a state: bounded, typed.
func FuzzDecodeState(f *testing.F) {
	good, _ := encode(state{DeviceKeys: make([]byte, 64), TAs: []TA{{ID: [][]byte{[]byte("TA"), []byte("a"), []byte("b")}, SequenceNumber: 2, Image: []byte("x")}}})
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s state
		if decode(data, &s) == nil {
			if _, err := encode(s); err != nil {
				t.Fatal(err)
			}
		}
	})
}
