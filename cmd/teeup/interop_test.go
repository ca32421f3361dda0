package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/teeup/teeup/secure/suit"
)

// macEnvelope signs manifest (the SUIT_Manifest's encoding) with an HMAC
// key into a tagged envelope file, as another SUIT processor's author
// tool would.
func macEnvelope(t *testing.T, path string, secret, manifest []byte) {
	t.Helper()
	wrapped := mustCBOR(t, manifest)
	d, err := suit.DigestOf(suit.AlgSHA256, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	env := &suit.Envelope{Tagged: true, Manifest: manifest, AuthWrapper: (&suit.Authentication{DigestBytes: d.Encode()}).Encode()}
	key, err := suit.NewMACSigningKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, env.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustCBOR encodes v in the core deterministic encoding, map keys sorted,
// as SUIT requires: override-multiple leaves its last-listed component
// selected, so the order of a map is meaningful.
func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCLIInterop: manifests that other SUIT processors send verify,
// inspect and process from the command line (draft-ietf-suit-update-
// management): one carrying suit-coswid whose install begins with
// override-multiple, and one setting component-metadata, which process
// declines with the reason. On 9d2e92e neither verified.
func TestCLIInterop(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	secret := bytes.Repeat([]byte("a"), 32)
	if err := os.WriteFile(in("mac.key"), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	// {0: tag-id, 12: tag-version, 1: software-name}: a minimal CoSWID.
	coswid := mustCBOR(t, map[int]any{0: "teeup-fw-1", 12: 0, 1: "teeup firmware"})
	common := mustCBOR(t, map[int]any{2: [][][]byte{{{0}}, {{1}}}})
	install := mustCBOR(t, []any{
		suit.DirOverrideMultiple, map[int]any{0: map[int]any{suit.ParamContent: []byte("zero")}, 1: map[int]any{suit.ParamContent: []byte("one")}},
		suit.DirWrite, 15, suit.DirSetComponentIndex, 0, suit.DirWrite, 15})
	macEnvelope(t, in("coswid.suit"), secret, mustCBOR(t, map[int]any{1: 1, 2: 1, 3: common, suit.KeyCoSWID: coswid, suit.KeyInstall: install}))

	metadata := mustHex(t, "a2"+"0101"+"0501") // {1: 1, 5: 1}: default permission traverse/exec, a regular file
	withMetadata := mustCBOR(t, []any{
		suit.DirSetComponentIndex, 0,
		suit.DirOverrideParameters, map[int]any{suit.ParamComponentMetadata: metadata, suit.ParamContent: []byte("zero")},
		suit.DirWrite, 15})
	macEnvelope(t, in("metadata.suit"), secret, mustCBOR(t, map[int]any{1: 1, 2: 1, 3: common, suit.KeyInstall: withMetadata}))

	for _, f := range []string{"coswid.suit", "metadata.suit"} {
		if out, e, code := teeup(t, "manifest", "verify", "--mac-key", in("mac.key"), in(f)); code != 0 || !strings.Contains(out, "verified") {
			t.Errorf("verify %s: exit %d\n%s%s", f, code, out, e)
		}
		if out, e, code := teeup(t, "manifest", "inspect", in(f)); code != 0 {
			t.Errorf("inspect %s: exit %d\n%s%s", f, code, out, e)
		}
	}
	out, e, code := teeup(t, "manifest", "inspect", in("coswid.suit"))
	if code != 0 || !strings.Contains(out, "coswid") || !strings.Contains(out, "directive-override-multiple") {
		t.Errorf("inspect coswid.suit:\n%s%s", out, e)
	}
	out, e, code = teeup(t, "manifest", "inspect", in("metadata.suit"))
	if code != 0 || !strings.Contains(out, "component-metadata={1: 1, 5: 1}") {
		t.Errorf("inspect metadata.suit:\n%s%s", out, e)
	}

	out, e, code = teeup(t, "manifest", "process", "--mac-key", in("mac.key"), "--out", in("out"), in("coswid.suit"))
	if code != 0 {
		t.Fatalf("process coswid.suit: exit %d\n%s%s", code, out, e)
	}
	for name, want := range map[string]string{"%00.bin": "zero", "%01.bin": "one"} {
		if got, err := os.ReadFile(filepath.Join(in("out"), name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	out, e, code = teeup(t, "manifest", "process", "--mac-key", in("mac.key"), "--out", in("out2"), in("metadata.suit"))
	if code == 0 || !strings.Contains(e, "does not apply file metadata") {
		t.Errorf("process metadata.suit: exit %d\n%s%s", code, out, e)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
