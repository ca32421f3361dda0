package archtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  error
	}{
		{name: "bounds in limits.go", files: map[string]string{
			"limits.go": "package p\n\nconst MaxFrame = 1 << 20\n\nconst (\n\tmaxReason = 4 << 10\n\tMax2 = 2\n)\n",
			"p.go":      "package p\n\nconst headerSize = 24\n\nvar MaxSeen int\n\nfunc MaxImage() int { const maxLocal = 3; return maxLocal }\n"}},
		{name: "an exported bound elsewhere", files: map[string]string{
			"limits.go": "package p\n", "ta.go": "package p\n\nconst MaxTAPayload = 1 << 20\n"},
			want: ErrBoundOutsideLimits},
		{name: "an unexported bound in a block elsewhere", files: map[string]string{
			"exit.go": "package p\n\nconst (\n\tExitHalt = 4\n\tmaxReason = 4 << 10\n)\n"},
			want: ErrBoundOutsideLimits},
		{name: "a decoder's bound written in place", files: map[string]string{
			"codec.go": "package p\n\nvar dm = cbor.DecOptions{MaxNestedLevels: 8, MaxArrayElements: 1 << 16}\n"},
			want: ErrBoundOutsideLimits},
		{name: "a decoder's bounds named", files: map[string]string{
			"limits.go": "package p\n\nconst (\n\tmaxNested = 8\n\tMaxEvents = 64\n)\n",
			"codec.go":  "package p\n\nvar dm = cbor.DecOptions{MaxNestedLevels: maxNested, MaxArrayElements: MaxEvents * 2}\n"}},
		{name: "a decoder's bounds written in limits.go", files: map[string]string{
			"limits.go": "package p\n\nvar decOptions = cbor.DecOptions{MaxNestedLevels: 8}\n"}},
		{name: "a name that only starts like a bound", files: map[string]string{
			"p.go": "package p\n\nconst maximum = 3\nconst Maxim = 4\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := &Package{Path: "p", Name: "p", Dir: dir, Ours: true}
			for name, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
				p.GoFiles = append(p.GoFiles, name)
			}
			if err := CheckLimits(p); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("CheckLimits = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestBoundsInLimits checks every package of the module.
func TestBoundsInLimits(t *testing.T) {
	t.Parallel()
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g {
		if p.Ours {
			if err := CheckLimits(p); err != nil {
				t.Error(err)
			}
		}
	}
}
