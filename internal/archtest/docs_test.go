package archtest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckDoc(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pkg   string // the package clause
		path  string
		files map[string]string
		want  error
	}{
		{name: "purpose and a Trust paragraph", pkg: "flash", path: "emulator/flash", files: map[string]string{
			"doc.go":   "// Package flash models NOR flash.\n//\n// Trust: none; it is the hardware.\npackage flash\n",
			"flash.go": "package flash\n"}},
		{name: "purpose and a sentence saying what it trusts", pkg: "keys", path: "secure/keys", files: map[string]string{
			"keys.go": "// Package keys holds trust anchors.\n// It trusts its own configuration only.\npackage keys\n"}},
		{name: "a heading", pkg: "tpm", path: "secure/tpm", files: map[string]string{
			"doc.go": "// Package tpm speaks to the TPM.\n//\n// # What it trusts\n//\n// The transport.\npackage tpm\n"}},
		{name: "a command", pkg: "main", path: "cmd/teeup", files: map[string]string{
			"main.go": "// Command teeup is the CLI.\n//\n// Trust: it trusts the user's files.\npackage main\n"}},
		{name: "no comment", pkg: "fetch", path: "normal/fetch", files: map[string]string{
			"fetch.go": "package fetch\n", "retry.go": "// not a package comment\n\npackage fetch\n"},
			want: ErrNoDoc},
		{name: "no purpose", pkg: "fetch", path: "normal/fetch", files: map[string]string{
			"doc.go": "// Downloads things.\n//\n// Trust: none.\npackage fetch\n"},
			want: ErrDocPurpose},
		{name: "another package's name", pkg: "fetch", path: "normal/fetch", files: map[string]string{
			"doc.go": "// Package fetcher downloads things.\n//\n// Trust: none.\npackage fetch\n"},
			want: ErrDocPurpose},
		{name: "no trust", pkg: "suit", path: "secure/suit", files: map[string]string{
			"doc.go": "// Package suit handles Trusted Applications and trusted components.\npackage suit\n"},
			want: ErrDocTrust},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := &Package{Path: tc.path, Name: tc.pkg, Dir: dir, Ours: true}
			for name, src := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
					t.Fatal(err)
				}
				p.GoFiles = append(p.GoFiles, name)
			}
			if err := CheckDoc(p); !errors.Is(err, tc.want) {
				t.Errorf("CheckDoc = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestPackageDocs checks every package of the module.
func TestPackageDocs(t *testing.T) {
	t.Parallel()
	root, err := ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	for _, p := range g {
		if !p.Ours {
			continue
		}
		checked++
		if err := CheckDoc(p); err != nil {
			t.Error(err)
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d packages; go list found too few for the check to prove anything", checked)
	}
}
