package agent_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/agent"
	"github.com/teeup/teeup/normal/fetch"
)

// rig is a device whose secure world serves this test's agent over ipc.
type rig struct {
	*devicetest.Rig
	t     *testing.T
	agent *agent.Agent
	lines []string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{Rig: devicetest.New(t), t: t}
	r.connect()
	return r
}

// boot power-cycles the device and connects the agent to its new
// session. It returns whether the device boots on trial and the sequence
// number of the normal world's image it boots.
func (r *rig) boot() (trial bool, normal uint64) {
	r.t.Helper()
	res := r.Reboot()
	r.connect()
	return res.Trial, res.Images[1].SequenceNumber
}

func (r *rig) connect() {
	r.t.Helper()
	c, err := ipc.NewClient(r.Serve(nil))
	if err != nil {
		r.t.Fatal(err)
	}
	dl, err := fetch.New(fetch.Config{})
	if err != nil {
		r.t.Fatal(err)
	}
	r.agent = &agent.Agent{SW: c, Fetch: dl, Progress: func(s string) { r.lines = append(r.lines, s) }}
}

// TestUpdateFromLocalFileAndAccept: a payload the normal world has as a
// file (removable media) instead of downloading it.
func TestUpdateFromLocalFileAndAccept(t *testing.T) {
	r := newRig(t)
	img := devicetest.NormalImage(2, 5000)
	uri := "https://fw.teeup.example/normal-2.bin"
	env := buildEnvelope(t, r, img, uri)
	r.agent.Local = map[string]string{uri: writeFile(t, img)}
	if reboot, err := r.agent.Update(context.Background(), [][]byte{env}); err != nil || !reboot {
		t.Fatalf("Update: reboot %v, %v\n%s", reboot, err, strings.Join(r.lines, "\n"))
	}
	if trial, seq := r.boot(); !trial || seq != 2 {
		t.Fatalf("after the update the device boots normal image %d, trial %v", seq, trial)
	}
	got, err := r.agent.HealthCheck(context.Background(), func(context.Context) error { return nil })
	if err != nil || got != "accepted" {
		t.Fatalf("health check: %q %v", got, err)
	}
	if got, _ := r.agent.HealthCheck(context.Background(), nil); got != "" {
		t.Fatalf("health check with no trial: %q", got)
	}
}

func TestUpdateOverHTTPAndRejectedTrial(t *testing.T) {
	r := newRig(t)
	img := devicetest.NormalImage(2, 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.ServeContent(w, req, "x.bin", r.Dev.State.Updated, bytes.NewReader(img))
	}))
	defer srv.Close()
	env := buildEnvelope(t, r, img, srv.URL+"/normal-2.bin")
	if _, err := r.agent.Update(context.Background(), [][]byte{env}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	r.boot()
	got, err := r.agent.HealthCheck(context.Background(), func(context.Context) error { return errors.New("service down") })
	if err != nil || got != "rejected" {
		t.Fatalf("health check: %q %v", got, err)
	}
	if _, seq := r.boot(); seq != 1 {
		t.Fatalf("after a rejected trial the device boots %d", seq)
	}
}

func TestUpdateRefusedPayloadNotFound(t *testing.T) {
	r := newRig(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	env := buildEnvelope(t, r, devicetest.NormalImage(2, 3000), srv.URL+"/missing.bin")
	_, err := r.agent.Update(context.Background(), [][]byte{env})
	if !errors.Is(err, fetch.ErrNotFound) {
		t.Fatalf("Update = %v, want ErrNotFound", err)
	}
	if trial, seq := r.boot(); trial || seq != 1 {
		t.Fatalf("after a failed download the device boots normal image %d, trial %v", seq, trial)
	}
}

func TestReadEnvelopeBounded(t *testing.T) {
	big := writeFile(t, make([]byte, agent.MaxEnvelope+1))
	if _, err := agent.ReadEnvelope(context.Background(), nil, big); err == nil {
		t.Fatal("an oversize envelope file was read")
	}
	small := writeFile(t, []byte("abc"))
	if b, err := agent.ReadEnvelope(context.Background(), nil, small); err != nil || string(b) != "abc" {
		t.Fatalf("ReadEnvelope = %q, %v", b, err)
	}
}

// buildEnvelope makes a normal-image manifest whose payload is at uri.
func buildEnvelope(t *testing.T, r *rig, img []byte, uri string) []byte {
	t.Helper()
	return r.NormalEnvelopeAt(2, img, uri)
}

func writeFile(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpdateFromLocalFileSizes: the agent sends exactly the bytes the
// manifest declares from a local file: a longer file installs, a shorter
// one is refused before anything is sent, and an altered one is refused
// by the secure world.
func TestUpdateFromLocalFileSizes(t *testing.T) {
	img := devicetest.NormalImage(2, 5000)
	altered := bytes.Clone(img)
	altered[4000] ^= 1
	for _, tc := range []struct {
		name    string
		file    []byte
		trial   bool
		wantErr error
	}{
		{"as declared", img, true, nil},
		{"longer than declared", append(bytes.Clone(img), "trailer"...), true, nil},
		{"shorter than declared", img[:4999], false, nil},
		{"altered", altered, false, ipc.ErrRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			uri := "https://fw.teeup.example/normal-2.bin"
			r.agent.Local = map[string]string{uri: writeFile(t, tc.file)}
			_, err := r.agent.Update(context.Background(), [][]byte{buildEnvelope(t, r, img, uri)})
			if (err == nil) != tc.trial || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Update = %v", err)
			}
			if trial, seq := r.boot(); trial != tc.trial {
				t.Fatalf("after the update the device boots normal image %d, trial %v", seq, trial)
			}
		})
	}
}
