package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
)

// attestation is one round of a verifier with a running device: a fresh
// nonce, the device's evidence through its normal world, the verdict of
// teeup attest verify against the published reference values.
type attestation struct {
	d          *runningDevice
	rnd        *rand.ChaCha8
	references []string
	round      int
}

// verify attests the device and returns the verifier's JSON result and
// exit status.
func (a *attestation) verify() (map[string]any, int) {
	t := a.d.t
	t.Helper()
	a.round++
	nonce := make([]byte, 32)
	a.rnd.Read(nonce)
	ev := filepath.Join(filepath.Dir(a.d.dir), fmt.Sprintf("evidence-%d.cbor", a.round))
	if out, e, code := teeup(t, "device", "attest", "--dir", a.d.dir, "--nonce", hex.EncodeToString(nonce), "--out", ev); code != 0 ||
		!strings.Contains(e, "through its normal world") {
		t.Fatalf("device attest: exit %d\n%s%s", code, out, e)
	}
	args := []string{"attest", "verify", "--evidence", ev, "--nonce", hex.EncodeToString(nonce),
		"--endorsements", filepath.Join(a.d.dir, "identity"), "--json"}
	for _, r := range a.references {
		args = append(args, "--reference", r)
	}
	out, _, code := teeup(t, args...)
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("attest verify printed %q: %v", out, err)
	}
	return res, code
}

// trustworthy fails the test unless the device attests as trustworthy,
// claiming exactly the component versions in want ("name=seq").
func (a *attestation) trustworthy(when string, want ...string) {
	t := a.d.t
	t.Helper()
	res, code := a.verify()
	if code != 0 || res["trustworthy"] != true {
		raw, _ := json.MarshalIndent(res, "", " ")
		t.Fatalf("%s: exit %d, not trustworthy:\n%s", when, code, raw)
	}
	var got []string
	for _, c := range res["components"].([]any) {
		m := c.(map[string]any)
		got = append(got, fmt.Sprintf("%s=%v", m["component"], m["sequence_number"]))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("%s: claims %v, want %v", when, got, want)
	}
}

// publish adds the reference values of envelopes, signed by keys (dev-keys
// names), to the author's reference file.
func (a *attestation) publish(file string, keys []string, envelopes ...string) {
	t := a.d.t
	t.Helper()
	args := []string{"attest", "reference", "--out", file}
	for _, k := range keys {
		args = append(args, "--key", filepath.Join(a.d.dir, "dev-keys", k+".pem"))
	}
	if out, e, code := teeup(t, append(args, envelopes...)...); code != 0 {
		t.Fatalf("attest reference: %s%s", out, e)
	}
}

// TestAttestEndToEnd: a device running as two processes attests as
// trustworthy against the published reference values after each step of
// its life: the factory images, an atomic update of both images, a TA
// install, and a trial its health check rejects (the revert). Its
// evidence goes from the secure world through the normal world; the
// verifier is teeup attest verify with the endorsement device init wrote.
// A release no author published, and one verified without its reference,
// is not trustworthy.
func TestAttestEndToEnd(t *testing.T) {
	// The health check runs in the confined normal world, whose working
	// directory is its spool: the test marks the device unhealthy there.
	d := startDevice(t, "test ! -e unhealthy")
	unhealthy := filepath.Join(d.dir, device.SpoolDir, "unhealthy")
	dir := filepath.Dir(d.dir)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	releases := filepath.Join(dir, "reference.json")
	a := &attestation{d: d, rnd: rand.NewChaCha8([32]byte{13}), references: []string{device.FactoryReferenceFile(d.dir), releases}}

	// The factory images: published by device init.
	a.references = a.references[:1]
	a.trustworthy("factory", "['secure']=1", "['normal']=1")
	a.references = append(a.references, releases)

	// An atomic update of both images, published by their author (and the
	// operator, who co-signs the secure image).
	envS, payS := d.release("secure", 2, "https://fw.example/secure-2.bin")
	envN, _ := d.release("normal", 2, srv.URL+"/normal-2.bin")
	if out, e, code := d.update("--payload", "https://fw.example/secure-2.bin="+payS, envS, envN); code != 0 {
		t.Fatalf("atomic update: exit %d\n%s%s", code, out, e)
	}
	a.publish(releases, []string{"author", "operator"}, envS, envN)
	a.trustworthy("after the atomic update", "['secure']=2", "['normal']=2")

	// A TA, published by its author.
	os.WriteFile(filepath.Join(dir, "hello.ta"), []byte(strings.Repeat("hello TA, release 1\n", 300)), 0o644)
	ta := d.taEnvelope("hello-1", "acme", 1, `{"id": ["'TA'", "'acme'", "'hello'"], "file": "hello.ta", "uri": "https://tam.example/hello.ta"}`)
	if out, e, code := d.update("--payload", "https://tam.example/hello.ta="+filepath.Join(dir, "hello.ta"), ta); code != 0 {
		t.Fatalf("TA install: exit %d\n%s%s", code, out, e)
	}
	a.publish(releases, []string{"ta-acme"}, ta)
	a.trustworthy("after the TA install", "['secure']=2", "['normal']=2", "['TA','acme','hello']=1")

	// A release the health check rejects: the device reverts to the
	// images it ran, and attests them. The rejected release was published:
	// a device that runs it would be affirmed, but it does not run.
	os.WriteFile(unhealthy, nil, 0o644)
	envN3, _ := d.release("normal", 3, srv.URL+"/normal-3.bin")
	a.publish(releases, []string{"author"}, envN3)
	if out, _, code := d.update(envN3); code == 0 || !strings.Contains(out, "update rejected") {
		t.Fatalf("rejected update: exit %d\n%s", code, out)
	}
	os.Remove(unhealthy)
	// Until the reset the rejected trial still runs, and the evidence says
	// so; the reset reverts it.
	a.trustworthy("the rejected trial, before the reset", "['secure']=2", "['normal']=3", "['TA','acme','hello']=1")
	pid := d.status().PID
	if out, e, code := teeup(t, "device", "kill", "--dir", d.dir); code != 0 {
		t.Fatalf("kill: %s%s", out, e)
	}
	for d.status().PID == pid {
		time.Sleep(50 * time.Millisecond)
	}
	a.trustworthy("after the revert", "['secure']=2", "['normal']=2", "['TA','acme','hello']=1")

	// Without the releases' reference values, the updated images and the
	// TA are not affirmed, each with its reason.
	a.references = a.references[:1]
	res, code := a.verify()
	if code == 0 || res["trustworthy"] != false {
		t.Fatalf("unpublished releases: exit %d, %v", code, res)
	}
	for _, c := range res["components"].([]any) {
		m := c.(map[string]any)
		if m["affirmed"] != false || m["reason"] == "" {
			t.Fatalf("an unpublished release is affirmed: %v", m)
		}
	}
}
