package archtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckVectorCopies(t *testing.T) {
	t.Parallel()
	write := func(t *testing.T, root, rel, data string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		files    map[string]string
		wantSets int
		want     error
	}{
		{name: "two copies agree, one holds fewer files", files: map[string]string{
			"a/testdata/suit-manifest/README.md": "source", "a/testdata/suit-manifest/x.hex": "00", "a/testdata/suit-manifest/y.hex": "01",
			"b/testdata/suit-manifest/README.md": "source", "b/testdata/suit-manifest/x.hex": "00"},
			wantSets: 1},
		{name: "a copy edited", files: map[string]string{
			"a/testdata/suit-manifest/README.md": "source", "a/testdata/suit-manifest/x.hex": "00",
			"b/c/testdata/suit-manifest/README.md": "source", "b/c/testdata/suit-manifest/x.hex": "01"},
			wantSets: 1, want: ErrCopiesDiffer},
		{name: "a README edited", files: map[string]string{
			"a/testdata/suit-manifest/README.md": "source", "b/testdata/suit-manifest/README.md": "other source"},
			wantSets: 1, want: ErrCopiesDiffer},
		{name: "folders without a README are not vector sets", files: map[string]string{
			"a/testdata/fuzz/FuzzX/1": "a", "b/testdata/fuzz/FuzzX/1": "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			for rel, data := range tc.files {
				write(t, root, rel, data)
			}
			sets, err := CheckVectorCopies(root)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if sets != tc.wantSets {
				t.Errorf("%d sets, want %d", sets, tc.wantSets)
			}
		})
	}
}

// TestVectorCopiesAgree checks the published vectors copied into the
// packages' testdata/ folders.
func TestVectorCopiesAgree(t *testing.T) {
	t.Parallel()
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	sets, err := CheckVectorCopies(root)
	if err != nil {
		t.Error(err)
	}
	if sets < 3 {
		t.Errorf("found %d vector sets under testdata/ folders, want the 3 SUIT sets at least", sets)
	}
}
