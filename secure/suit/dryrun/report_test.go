package dryrun_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// TestExamplesReport makes the report of each draft-37 example run on the
// dry-run device, signs it with a device key, verifies it as a status
// tracker would, and compares its diagnostic form with a golden file.
func TestExamplesReport(t *testing.T) {
	device, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := device.Public()
	installed := &dryrun.Image{Simulated: true, Digest: digestA, Size: 34768}
	tests := []struct {
		name, file string
		slot       uint64
		booted     bool
		wantErr    error
	}{
		{"example0-report", "example0.hex", 0, true, nil},
		{"example3-slot2-report", "example3.hex", 2, false, suit.ErrTryEachExhausted},
		{"example4-report", "example4.hex", 0, false, suit.ErrImageMismatch},
		{"example5-wrong-vendor-report", "example5.hex", 0, false, suit.ErrVendorMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := loadExample(t, tc.file)
			dev := exampleDevice(tc.slot, nil)
			if tc.booted {
				img := *installed
				dev.Components[0].Image = &img
			}
			if tc.name == "example5-wrong-vendor-report" {
				withIDs(dev, exHex("00000000000000000000000000000001"), exampleClass)
			}
			res, perr := suit.Process(context.Background(), v, dev, suit.Options{Report: true})
			if !errors.Is(perr, tc.wantErr) || (perr == nil) != (tc.wantErr == nil) {
				t.Fatalf("Process = %v, want %v", perr, tc.wantErr)
			}
			rep := suit.NewReport(v, res, perr, suit.ReportOptions{Nonce: []byte{0xa1}})
			signed, err := rep.Sign(device)
			if err != nil {
				t.Fatal(err)
			}
			got, signer, err := suit.VerifyReport(signed, []*suit.Key{pub})
			if err != nil || signer != pub.ID {
				t.Fatalf("VerifyReport: %v", err)
			}
			if !bytes.Equal(got.Encode(), rep.Encode()) {
				t.Fatal("the verified report differs from the one made")
			}
			diag, err := suit.Diagnose(got.Encode())
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", tc.name+".diag"), diag+"\n")
		})
	}
}
