package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// teeupStdin is teeup with bytes on its standard input.
func teeupStdin(t *testing.T, stdin []byte, args ...string) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	var o, e bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(stdin), &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.Bytes(), e.Bytes(), code
}

// onlyJSON checks that out is one JSON document and nothing else, and
// decodes it into v.
func onlyJSON(t *testing.T, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("stdout holds more than one JSON document:\n%s", out)
	}
}

// TestCLIHelp: --help and -h on the root, the groups and a command exit 0
// and show the positional arguments and examples on stdout.
func TestCLIHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"manifest", "device", "completion", "version", "Examples:"}},
		{[]string{"-h"}, []string{"Usage:"}},
		{[]string{"help"}, []string{"Usage:"}},
		{[]string{"manifest", "--help"}, []string{"keygen", "create", "sign", "verify", "inspect", "process", "report", "Examples:"}},
		{[]string{"device", "--help"}, []string{"init", "stage", "reboot", "accept", "reject", "status", "run", "update", "kill", "Examples:"}},
		{[]string{"manifest", "create", "-h"}, []string{"SPEC.json", "--vendor-domain", "Examples:"}},
		{[]string{"manifest", "verify", "--help"}, []string{"ENVELOPE", "--json", "Examples:"}},
		{[]string{"device", "init", "--help"}, []string{"--slot-size", "--trust", "--ta-author", "Examples:"}},
		{[]string{"device", "update", "--help"}, []string{"ENVELOPE|URI", "--json", "Examples:"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			out, e, code := teeup(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, e)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			if len(tc.args) <= 2 && strings.HasSuffix(tc.args[len(tc.args)-1], "help") && strings.Contains(out, "[flags]\n  teeup") {
				t.Errorf("a group's usage shows a line of its own:\n%s", out)
			}
			if strings.Contains(out, "secure-world") {
				t.Error("help shows the hidden world commands")
			}
		})
	}
}

// TestCLIExitCodes: usage errors exit 2 with one line and a pointer to
// --help; failures exit 1.
func TestCLIExitCodes(t *testing.T) {
	t.Parallel()
	notEnvelope := filepath.Join(t.TempDir(), "x.suit")
	os.WriteFile(notEnvelope, []byte{0x20}, 0o644) // CBOR: a negative integer, not a map
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"bogus"}, 2},
		{[]string{"manifest"}, 2},
		{[]string{"manifest", "bogus"}, 2},
		{[]string{"manifest", "verify"}, 2},
		{[]string{"manifest", "verify", "--bogus", "x"}, 2},
		{[]string{"manifest", "verify", notEnvelope}, 2}, // no --key
		{[]string{"manifest", "keygen"}, 2},
		{[]string{"manifest", "keygen", "--alg", "RSA", "--out", "k.pem"}, 2},
		{[]string{"device", "status"}, 2}, // no --dir
		{[]string{"device", "init", "extra"}, 2},
		{[]string{"version", "extra"}, 2},
		{[]string{"manifest", "verify", "--key", spec(t, "suit-manifest/public-key.pem"), notEnvelope}, 1},
		{[]string{"manifest", "inspect", "/nonexistent/x.suit"}, 1},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			_, e, code := teeup(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, e)
			}
			lines := strings.Split(strings.TrimSpace(e), "\n")
			if !strings.HasPrefix(lines[0], "teeup: ") {
				t.Errorf("stderr %q", e)
			}
			if tc.code == 2 && (len(lines) != 2 || !strings.Contains(lines[1], "--help")) {
				t.Errorf("a usage error points to --help in a second line: %q", e)
			}
		})
	}
}

// TestCLIPlainMessages: a file that is no envelope is said to be so in
// plain words; the decoder's detail shows only with --verbose.
func TestCLIPlainMessages(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "x.suit")
	os.WriteFile(f, []byte{0x20}, 0o644)
	_, e, _ := teeup(t, "manifest", "inspect", f)
	if !strings.Contains(e, "not a SUIT envelope") || strings.Contains(e, "major type") {
		t.Errorf("plain: %q", e)
	}
	_, e, _ = teeup(t, "--verbose", "manifest", "inspect", f)
	if !strings.Contains(e, "not a SUIT envelope: ") || !strings.Contains(e, "malformed") {
		t.Errorf("verbose: %q", e)
	}
	// A folder with no device: said so at once, by every device command
	// that needs one, with how to make one.
	empty := t.TempDir()
	for _, args := range [][]string{{"status"}, {"update", "x.suit"}, {"reboot"}, {"accept"}} {
		_, e, code := teeup(t, append(append([]string{"device"}, args...), "--dir", empty)...)
		if code != 1 || !strings.Contains(e, "holds no device (teeup device init --dir") {
			t.Errorf("device %s on an empty folder: exit %d, %q", args[0], code, e)
		}
	}
}

// TestCLICompletion: the scripts for bash, zsh and fish complete teeup.
func TestCLICompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{"bash": "__start_teeup", "zsh": "#compdef teeup", "fish": "complete -c teeup"} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			out, e, code := teeup(t, "completion", shell)
			if code != 0 || !strings.Contains(out, want) || e != "" {
				t.Errorf("exit %d, stderr %q, script has %q: %v", code, e, want, strings.Contains(out, want))
			}
		})
	}
	// The completion itself: the subcommands of manifest.
	out, _, code := teeup(t, "__complete", "manifest", "")
	if code != 0 || !strings.Contains(out, "keygen") || !strings.Contains(out, "verify") {
		t.Errorf("__complete manifest: exit %d\n%s", code, out)
	}
}

// TestCLIVersion: the Go version, the module and the TPM simulator's
// version, as text and as JSON.
func TestCLIVersion(t *testing.T) {
	t.Parallel()
	out, _, code := teeup(t, "version", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var doc versionDoc
	onlyJSON(t, out, &doc)
	if doc.GoVersion != runtime.Version() || doc.Module == "" || !strings.HasPrefix(doc.GoTPMTools, "v") || !strings.HasPrefix(doc.GoTPM, "v") {
		t.Errorf("version %+v", doc)
	}
	out, _, _ = teeup(t, "version")
	for _, w := range []string{runtime.Version(), "go-tpm-tools " + doc.GoTPMTools} {
		if !strings.Contains(out, w) {
			t.Errorf("version lacks %q:\n%s", w, out)
		}
	}
}

// TestCLIVersionVCS: a binary built from a git checkout with VCS stamping
// reports its revision.
func TestCLIVersionVCS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds teeup")
	}
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	// go build stamps a revision from a .git folder; a git worktree has a
	// .git file instead, which it does not follow.
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !st.IsDir() {
		t.Skip("a git worktree: go build does not stamp its revision")
	}
	bin := filepath.Join(t.TempDir(), "teeup")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var doc versionDoc
	onlyJSON(t, string(out), &doc)
	if doc.Revision != strings.TrimSpace(string(rev)) {
		t.Errorf("revision %q, want %q", doc.Revision, rev)
	}
}

// TestCLIStdio: "-" is standard output for create and standard input for
// verify and inspect; the messages then go to stderr.
func TestCLIStdio(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	if _, e, code := teeup(t, "manifest", "keygen", "--out", in("a.pem")); code != 0 {
		t.Fatal(e)
	}
	os.WriteFile(in("a.bin"), []byte("image A"), 0o644)
	spec := []byte(`{"sequence-number": 3, "components": [{"id": ["00"], "file": "` + in("a.bin") + `", "integrate": true}]}`)
	env, e, code := teeupStdin(t, spec, "manifest", "create", "-", "--vendor-domain", "arm.com", "--class-name", "suit",
		"--key", in("a.pem"), "--out", "-")
	if code != 0 || !bytes.Contains(e, []byte("wrote standard output")) {
		t.Fatalf("create - --out -: exit %d, %s", code, e)
	}
	out, e, code := teeupStdin(t, env, "manifest", "verify", "--key", in("a.pub.pem"), "-")
	if code != 0 || !bytes.Contains(out, []byte("standard input: verified, sequence number 3")) {
		t.Fatalf("verify -: exit %d\n%s%s", code, out, e)
	}
	out, _, code = teeupStdin(t, env, "manifest", "inspect", "--json", "-")
	var doc inspectDoc
	onlyJSON(t, string(out), &doc)
	if code != 0 || doc.SequenceNumber != 3 {
		t.Errorf("inspect -: exit %d, %+v", code, doc)
	}
	// The IDs derived from arm.com and suit are the draft's example IDs.
	out, _, _ = teeupStdin(t, env, "manifest", "inspect", "-")
	if !bytes.Contains(out, []byte("fa6b4a53d5ad5fdfbe9de663e4d41ffe")) || !bytes.Contains(out, []byte("1492af1425695e48bf429b2d51f2ab45")) {
		t.Errorf("derived IDs not in the manifest:\n%s", out)
	}
	// A spec that names another class than the flags derive is refused.
	other := []byte(`{"sequence-number": 3, "class-id": "00000000-0000-0000-0000-000000000002",
	  "components": [{"id": ["00"], "content": "00"}]}`)
	if _, e, code := teeupStdin(t, other, "manifest", "create", "-", "--vendor-domain", "arm.com", "--class-name", "suit",
		"--key", in("a.pem"), "--out", in("x.suit")); code != 1 {
		t.Errorf("conflicting class-id: exit %d, %s", code, e)
	}
}

// TestCLIKeygenNoOverwrite: an existing private key is kept unless
// --force; keys are written 0600.
func TestCLIKeygenNoOverwrite(t *testing.T) {
	t.Parallel()
	key := filepath.Join(t.TempDir(), "k.pem")
	if _, e, code := teeup(t, "manifest", "keygen", "--out", key); code != 0 {
		t.Fatal(e)
	}
	first := mustRead(t, key)
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, %v", st.Mode(), err)
	}
	_, e, code := teeup(t, "manifest", "keygen", "--out", key)
	if code != 1 || !strings.Contains(e, "--force") || !bytes.Equal(mustRead(t, key), first) {
		t.Errorf("second keygen: exit %d, %q, key kept %v", code, e, bytes.Equal(mustRead(t, key), first))
	}
	if _, e, code := teeup(t, "manifest", "keygen", "--out", key, "--force"); code != 0 || bytes.Equal(mustRead(t, key), first) {
		t.Errorf("keygen --force: exit %d, %s", code, e)
	}
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("replaced key mode %v, %v", st.Mode(), err)
	}
}

// TestCLISignOut: sign writes to --out and leaves its input alone; it
// replaces its input only with --in-place, and refuses to guess.
func TestCLISignOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	for _, k := range []string{"a", "b"} {
		if _, e, code := teeup(t, "manifest", "keygen", "--out", in(k+".pem")); code != 0 {
			t.Fatal(e)
		}
	}
	os.WriteFile(in("spec.json"), []byte(`{"sequence-number": 1, "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
	  "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45", "components": [{"id": ["00"], "content": "00"}]}`), 0o644)
	if _, e, code := teeup(t, "manifest", "create", in("spec.json"), "--key", in("a.pem"), "--out", in("u.suit")); code != 0 {
		t.Fatal(e)
	}
	orig := mustRead(t, in("u.suit"))
	if _, _, code := teeup(t, "manifest", "sign", "--key", in("b.pem"), in("u.suit")); code != 2 {
		t.Errorf("sign with no --out or --in-place: exit %d, want 2", code)
	}
	if _, e, code := teeup(t, "manifest", "sign", "--key", in("b.pem"), "--out", in("u2.suit"), in("u.suit")); code != 0 {
		t.Fatal(e)
	}
	if !bytes.Equal(mustRead(t, in("u.suit")), orig) {
		t.Error("sign --out changed its input")
	}
	out, _, code := teeup(t, "manifest", "verify", "--json", "--key", in("a.pub.pem"), "--key", in("b.pub.pem"), in("u2.suit"))
	var doc verifyDoc
	onlyJSON(t, out, &doc)
	if code != 0 || !doc.Verified || len(doc.Signers) != 2 {
		t.Errorf("verify of the co-signed envelope: exit %d, %+v", code, doc)
	}
	if _, e, code := teeup(t, "manifest", "sign", "--key", in("b.pem"), "--in-place", in("u.suit")); code != 0 || bytes.Equal(mustRead(t, in("u.suit")), orig) {
		t.Errorf("sign --in-place: exit %d, %s", code, e)
	}
}

// TestCLIJSONOnly: every --json command puts one JSON document on stdout
// and nothing else, also when it fails.
func TestCLIJSONOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub := spec(t, "suit-manifest/public-key.pem")
	ex := spec(t, "suit-manifest/example1.hex")
	os.WriteFile(filepath.Join(dir, "bad.suit"), []byte{0x20}, 0o644)
	out, _, code := teeup(t, "manifest", "verify", "--json", "--key", pub, ex)
	var v verifyDoc
	onlyJSON(t, out, &v)
	if code != 0 || !v.Verified || v.SequenceNumber != 1 {
		t.Errorf("verify: exit %d, %+v", code, v)
	}
	out, _, code = teeup(t, "manifest", "verify", "--json", "--key", pub, filepath.Join(dir, "bad.suit"))
	v = verifyDoc{}
	onlyJSON(t, out, &v)
	if code != 1 || v.Verified || !strings.Contains(v.Error, "not a SUIT envelope") {
		t.Errorf("verify of a non-envelope: exit %d, %+v", code, v)
	}
	out, _, _ = teeup(t, "manifest", "inspect", "--json", ex)
	var in map[string]any
	onlyJSON(t, out, &in)
	for _, k := range []string{"digest_alg", "digest", "sequence_number", "authentication_blocks"} {
		if _, ok := in[k]; !ok {
			t.Errorf("inspect has no %s", k)
		}
	}
	// A report: made by process, read back with --json.
	rep := filepath.Join(dir, "r.cbor")
	if _, e, code := teeup(t, "manifest", "process", "--key", pub, "--simulate-missing-payloads", "--report", rep,
		"--out", filepath.Join(dir, "out"), ex); code != 0 {
		t.Fatal(e)
	}
	out, _, code = teeup(t, "manifest", "report", "--json", rep)
	var r map[string]any
	onlyJSON(t, out, &r)
	if code != 0 || r["result"] != true || !strings.HasPrefix(r["manifest_digest"].(string), "sha-256:") {
		t.Errorf("report: exit %d, %v", code, r)
	}
}

// TestCLIProgress: on a terminal the bar is redrawn in place with the
// percentage, rate and time left; elsewhere a line goes out at most every
// few seconds, and the last one always.
func TestCLIProgress(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	var tty bytes.Buffer
	p := newProgress(&tty, true, clock)
	p.line("fetching")
	for i := uint64(1); i <= 4; i++ {
		now = now.Add(time.Second)
		p.line("payload http://x/a.bin: " + itoa(i<<20) + "/" + itoa(4<<20) + " bytes")
	}
	p.end()
	got := tty.String()
	for _, w := range []string{"fetching\n", "\r\033[K[", " 50% 2.0 MiB of 4.0 MiB, 1.0 MiB/s, ETA 2s  http://x/a.bin", "100% 4.0 MiB of 4.0 MiB"} {
		if !strings.Contains(got, w) {
			t.Errorf("terminal output lacks %q:\n%q", w, got)
		}
	}
	var log bytes.Buffer
	p = newProgress(&log, false, clock)
	for i := uint64(1); i <= 64; i++ {
		now = now.Add(100 * time.Millisecond) // 6.4 s in all
		p.line("payload u: " + itoa(i) + "/64 bytes")
	}
	p.end()
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 4 || strings.Contains(log.String(), "\r") || !strings.HasPrefix(lines[3], "100%") {
		t.Errorf("log output, %d lines:\n%s", len(lines), log.String())
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestCLIWithoutCgo: a teeup built with CGO_ENABLED=0 builds, runs the
// manifest commands, and says at the start of a device command what will
// not work and how to fix it.
func TestCLIWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds teeup")
	}
	bin := filepath.Join(t.TempDir(), "teeup")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "manifest", "verify", "--key", spec(t, "suit-manifest/public-key.pem"), spec(t, "suit-manifest/example1.hex")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verified") {
		t.Errorf("verify without cgo: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "device", "init", "--dir", filepath.Join(t.TempDir(), "dev"))
	var e bytes.Buffer
	cmd.Stderr = &e
	if err := cmd.Run(); err == nil {
		t.Error("device init without a TPM simulator succeeded")
	}
	if !strings.HasPrefix(e.String(), noCgoWarning) || !strings.Contains(e.String(), "CGO_ENABLED=1") {
		t.Errorf("stderr does not start with the warning:\n%s", e.String())
	}
	var v bytes.Buffer
	cmd = exec.Command(bin, "version", "--json")
	cmd.Stdout = &v
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var doc versionDoc
	onlyJSON(t, v.String(), &doc)
	if doc.Cgo {
		t.Error("version says cgo")
	}
}

// TestCLIUpdateJSON: device update --json puts one JSON document on
// stdout, the outcome as the secure world answered it, and its progress
// on stderr; a refused update is JSON too, with exit 1.
func TestCLIUpdateJSON(t *testing.T) {
	t.Parallel()
	d := startDevice(t, "true")
	env := d.taEnvelope("hello", "acme", 1, `{"id": ["'TA'", "'acme'", "'hello'"], "content": "68656c6c6f"}`)
	// The envelope on standard input.
	o, eb, code := teeupStdin(t, mustRead(t, env), "device", "update", "--dir", d.dir, "--json", "-")
	out, e := string(o), string(eb)
	var doc updateDoc
	onlyJSON(t, out, &doc)
	if code != 0 || doc.Result != "installed" || doc.Rebooted || !strings.Contains(e, "accepted by the secure world") {
		t.Fatalf("update --json: exit %d, %+v\nstderr: %s", code, doc, e)
	}
	found := false
	for _, c := range doc.Components {
		found = found || (c.ID == "['TA','acme','hello']" && c.State == "UPDATED" && c.SequenceNumber == 1)
	}
	if !found {
		t.Errorf("components %+v", doc.Components)
	}
	// The same TA signed by another author: refused, and said so in JSON.
	foreign := d.taEnvelope("foreign", "globex", 2, `{"id": ["'TA'", "'acme'", "'hello'"], "content": "6f746865"}`)
	out, _, code = teeup(t, "device", "update", "--dir", d.dir, "--json", foreign)
	doc = updateDoc{}
	onlyJSON(t, out, &doc)
	if code != 1 || doc.Result != "failed" || doc.Error == "" {
		t.Errorf("refused update --json: exit %d, %+v", code, doc)
	}
}

// TestCLIDeviceInitTrust: a device made from a trust file trusts those
// keys, holds no private key, and refuses what another key signed.
func TestCLIDeviceInitTrust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	for _, k := range []string{"author", "operator", "acme", "mallory"} {
		if _, e, code := teeup(t, "manifest", "keygen", "--out", in(k+".pem")); code != 0 {
			t.Fatal(e)
		}
	}
	os.WriteFile(in("trust.json"), []byte(`{"author": "author.pem", "operator": "operator.pem", "ta-authors": {"acme": "acme.pub.pem"}}`), 0o644)
	dev := in("dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dev, "--trust", in("trust.json"), "--slot-size", "1MiB"); code != 0 ||
		!strings.Contains(out, "slots of 1 MiB") {
		t.Fatalf("init: exit %d\n%s%s", code, out, e)
	}
	if keys, _ := filepath.Glob(filepath.Join(dev, "dev-keys", "*")); len(keys) != 0 {
		t.Errorf("development keys made: %v", keys)
	}
	for _, name := range []string{"author", "operator", "ta-acme"} {
		if !bytes.Equal(mustRead(t, filepath.Join(dev, "trust", name+".pub.pem")), mustRead(t, in(strings.TrimPrefix(name, "ta-")+".pub.pem"))) {
			t.Errorf("trust/%s.pub.pem is not the given key", name)
		}
	}
	// A 700 KiB image: more than a default slot holds.
	os.WriteFile(in("n2.bin"), bytes.Repeat([]byte("normal v2\n"), 70<<10/10*10), 0o644)
	os.WriteFile(in("n2.json"), []byte(`{"sequence-number": 2, "components": [{"id": ["'normal'"], "file": "n2.bin", "integrate": true}]}`), 0o644)
	for _, k := range []string{"author", "mallory"} {
		if _, e, code := teeup(t, "manifest", "create", in("n2.json"), "--vendor-domain", "arm.com", "--class-name", "suit",
			"--key", in(k+".pem"), "--out", in(k+".suit")); code != 0 {
			t.Fatal(e)
		}
	}
	if _, e, code := teeup(t, "device", "stage", "--dir", dev, in("mallory.suit")); code != 1 {
		t.Errorf("an envelope signed by an untrusted key: exit %d, %s", code, e)
	}
	if out, e, code := teeup(t, "device", "stage", "--dir", dev, in("author.suit")); code != 0 {
		t.Errorf("the trusted author's envelope: exit %d\n%s%s", code, out, e)
	}
	if out, _, _ := teeup(t, "device", "reboot", "--dir", dev); !strings.Contains(out, "normal sequence 2") {
		t.Errorf("reboot:\n%s", out)
	}
}

// TestParseSize: sizes in bytes and binary units; nonsense refused.
func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint64{"65536": 65536, "64KiB": 64 << 10, "32MiB": 32 << 20, "1GiB": 1 << 30, "512K": 512 << 10, "2 MB": 2 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5MiB", "12XB", "99999999GiB"} {
		if _, err := parseSize(in); !errors.Is(err, errSize) {
			t.Errorf("parseSize(%q) = %v, want errSize", in, err)
		}
	}
}
