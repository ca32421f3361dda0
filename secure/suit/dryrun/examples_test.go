package dryrun_test

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

var update = flag.Bool("update", false, "rewrite the golden traces in testdata/")

func loadExample(t testing.TB, name string) *suit.Verified {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "suit-manifest", name))
	if err != nil {
		t.Fatal(err)
	}
	data, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join("testdata", "suit-manifest", "public-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := suit.ParsePublicKeyPEM(pem)
	if err != nil {
		t.Fatal(err)
	}
	env, err := suit.ParseEnvelope(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := env.Authenticate([]*suit.Key{key})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	exampleVendor = exHex("fa6b4a53d5ad5fdfbe9de663e4d41ffe")
	exampleClass  = exHex("1492af1425695e48bf429b2d51f2ab45")
	// The examples' image digests are placeholders: no payload has them,
	// so a device that already holds an image is described by its digest.
	digestA = suit.Digest{Alg: suit.AlgSHA256, Bytes: exHex("00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210")}
	digestB = suit.Digest{Alg: suit.AlgSHA256, Bytes: exHex("0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff")}
)

func exHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func exampleDevice(slot uint64, booted *dryrun.Image) *dryrun.Device {
	return &dryrun.Device{
		VendorIDs: [][]byte{exampleVendor}, ClassIDs: [][]byte{exampleClass},
		Components: []*dryrun.Component{
			{ID: suit.ComponentID{{0x00}}, Slot: slot, Image: booted},
			{ID: suit.ComponentID{{0x01}}},
			{ID: suit.ComponentID{{0x02}}},
		},
		Fixed:                         true,
		SimulateMissingPayloadsUnsafe: true,
	}
}

// TestExamplesTrace runs Examples 0-5 of draft-37 Appendix B on the dry-run
// device and compares the full trace with a golden file (reviewed by hand
// against the examples' diagnostic notation), plus the facts each example
// is there to show.
func TestExamplesTrace(t *testing.T) {
	installed := &dryrun.Image{Simulated: true, Digest: digestA, Size: 34768}
	tests := []struct {
		name, file string
		dev        *dryrun.Device
		wantErr    error
		check      func(t *testing.T, d *dryrun.Device, r *suit.Result)
	}{
		{"example0-secure-boot", "example0.hex", exampleDevice(0, installed), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantInvoked(t, d, "[00]")
		}},
		{"example0-no-image", "example0.hex", exampleDevice(0, nil), suit.ErrImageMismatch, nil},
		{"example1-download-install", "example1.hex", exampleDevice(0, nil), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "install: directive-fetch [0] uri=http://example.com/file.bin: ok")
		}},
		{"example2-severable", "example2.hex", exampleDevice(0, nil), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "install: directive-fetch [0] uri=http://example.com/very/long/path/to/file/file.bin: ok")
			wantInvoked(t, d, "[00]")
		}},
		{"example2-severed", "example2-severed.hex", exampleDevice(0, installed), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			if strings.Join(r.Skipped, ",") != "install" {
				t.Errorf("skipped %v, want [install]", r.Skipped)
			}
		}},
		{"example3-slot0", "example3.hex", exampleDevice(0, nil), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "install: directive-fetch [0] uri=http://example.com/file1.bin: ok")
			wantTrace(t, r, "validate: condition-image-match [0] digest="+hex.EncodeToString(digestA.Bytes)+" size=34768: ok")
		}},
		{"example3-slot1", "example3.hex", exampleDevice(1, nil), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "install: directive-fetch [0] uri=http://example.com/file2.bin: ok")
			wantTrace(t, r, "validate: condition-image-match [0] digest="+hex.EncodeToString(digestB.Bytes)+" size=76834: ok")
		}},
		{"example3-slot2-no-alternative", "example3.hex", exampleDevice(2, nil), suit.ErrTryEachExhausted, nil},
		// Example 4 loads with a digest of its own (load-digest differs from
		// install-digest: the load step transforms the image, say by
		// decompression). A plain copy cannot produce it, so every copy runs
		// and the load's image-match refuses the copied image.
		{"example4-external-storage", "example4.hex", exampleDevice(0, nil), suit.ErrImageMismatch, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "payload-fetch: directive-fetch [1] uri=http://example.com/file.bin: ok")
			wantTrace(t, r, "install: directive-copy [0] from [1]: ok")
			wantTrace(t, r, "load: directive-copy [2] from [0]: ok")
			wantLast(t, r, "condition-image-match")
			wantInvoked(t, d)
			for i, c := range d.Components {
				if c.Image == nil {
					t.Errorf("component %d holds nothing after the copies", i)
				}
			}
		}},
		{"example5-two-images", "example5.hex", exampleDevice(0, nil), nil, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantTrace(t, r, "install: directive-fetch [0] uri=http://example.com/file1.bin: ok")
			wantTrace(t, r, "install: directive-fetch [1] uri=http://example.com/file2.bin: ok")
			wantInvoked(t, d, "[00]")
		}},
		{"example1-wrong-vendor", "example1.hex", withIDs(exampleDevice(0, nil), exHex("00000000000000000000000000000001"), exampleClass), suit.ErrVendorMismatch, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantLast(t, r, "condition-vendor-identifier")
		}},
		{"example1-wrong-class", "example1.hex", withIDs(exampleDevice(0, nil), exampleVendor, exHex("00000000000000000000000000000002")), suit.ErrClassMismatch, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantLast(t, r, "condition-class-identifier")
		}},
		{"example5-wrong-vendor", "example5.hex", withIDs(exampleDevice(0, nil), exHex("00000000000000000000000000000001"), exampleClass), suit.ErrVendorMismatch, func(t *testing.T, d *dryrun.Device, r *suit.Result) {
			wantLast(t, r, "condition-vendor-identifier")
			if len(d.Components[0].ID) != 1 || d.Components[0].Image != nil {
				t.Error("a refused manifest changed the device")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := loadExample(t, tc.file)
			res, err := suit.Process(context.Background(), v, tc.dev, suit.Options{Details: true})
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Process: %v\n%s", err, res.Trace())
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Process = %v, want %v\n%s", err, tc.wantErr, res.Trace())
			}
			golden(t, filepath.Join("testdata", tc.name+".trace"), res.Trace())
			if tc.check != nil {
				tc.check(t, tc.dev, res)
			}
		})
	}
}

func withIDs(d *dryrun.Device, vendor, class []byte) *dryrun.Device {
	d.VendorIDs, d.ClassIDs = [][]byte{vendor}, [][]byte{class}
	return d
}

func wantTrace(t *testing.T, r *suit.Result, line string) {
	t.Helper()
	for _, rec := range r.Records {
		if rec.String() == line {
			return
		}
	}
	t.Errorf("trace lacks %q:\n%s", line, r.Trace())
}

func wantLast(t *testing.T, r *suit.Result, command string) {
	t.Helper()
	last := r.Records[len(r.Records)-1]
	if last.Command != command || last.Err == nil {
		t.Errorf("last record %q, want a failed %s", last, command)
	}
}

func wantInvoked(t *testing.T, d *dryrun.Device, ids ...string) {
	t.Helper()
	var got []string
	for _, id := range d.Invocations {
		got = append(got, id.String())
	}
	if strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("invoked %v, want %v", got, ids)
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("trace differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}
