package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/client"
)

// The end-to-end tests of issue 14's acceptance that need real
// processes: `teeup tam serve` (HTTPS, its embedded store), devices of two
// processes run by `teeup device run --tam`, the operator commands. A
// recording proxy stands between a device's broker and the TAM where a
// test plays the network: it sees every TEEP message, and may hold one,
// replace an answer, or have the TAM killed before it forwards.

// e2eWait bounds every wait of these tests for something a process does.
const e2eWait = 90 * time.Second

// tamServer is a `teeup tam serve` in the background.
type tamServer struct {
	t    *testing.T
	data string
	addr string // host:port, the same across restarts
	url  string // https://addr
	args []string
	cmd  *exec.Cmd
	log  *lockedBuffer
}

// runTAM runs a TAM on a free loopback port with its data in data.
func runTAM(t *testing.T, data string, args ...string) *tamServer {
	t.Helper()
	p := &tamServer{t: t, data: data, addr: freeAddr(t), log: &lockedBuffer{}}
	p.url = "https://" + p.addr
	p.args = append([]string{"tam", "serve", "--data", data, "--listen", p.addr}, args...)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("tam log:\n%s", p.log.String())
		}
	})
	p.start()
	return p
}

// start runs the TAM and waits until it listens.
func (p *tamServer) start() {
	p.t.Helper()
	before := strings.Count(p.log.String(), "TAM listening on")
	cmd := exec.Command(os.Args[0], p.args...)
	cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	waitFor(p.t, "the TAM to listen", func() bool { return strings.Count(p.log.String(), "TAM listening on") > before })
}

// kill cuts the TAM's power: SIGKILL, nothing flushed or closed.
func (p *tamServer) kill() {
	p.t.Helper()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}

// stop shuts the TAM down as Ctrl-C does.
func (p *tamServer) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// waitFor polls cond until it holds, failing the test after e2eWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", e2eWait, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tamFixture is a TAM with an operator (ops) and a TA author (acme, with
// its CI user), and the keys its devices trust: a firmware author, an
// operator and acme, made once, so that every device of the test takes
// the same envelopes.
type tamFixture struct {
	t      *testing.T
	dir    string
	tam    *tamServer
	ca     string // the TAM's self-signed certificate
	tamKey string // its public signing key (PEM file)
	key    *suit.Key
	tokens map[string]string // user name -> API token
}

func newTAMFixture(t *testing.T, serveArgs ...string) *tamFixture {
	t.Helper()
	dir := t.TempDir()
	f := &tamFixture{t: t, dir: dir, tokens: map[string]string{}}
	keys := filepath.Join(dir, "keys")
	os.Mkdir(keys, 0o700)
	for _, k := range []string{"author", "operator", "acme"} {
		f.run("manifest", "keygen", "--out", filepath.Join(keys, k+".pem"))
	}
	adminFile := filepath.Join(dir, "admin.token")
	f.tam = runTAM(t, filepath.Join(dir, "tam"), append([]string{"--init-admin", "admin", "--init-admin-token-file", adminFile}, serveArgs...)...)
	f.ca = filepath.Join(dir, "tam", "tls-cert.pem")
	f.tokens["admin"] = strings.TrimSpace(string(mustRead(t, adminFile)))
	f.tamKey = filepath.Join(dir, "tam.pub.pem")
	f.run("tam", "key", "--tam", f.tam.url, "--tam-ca", f.ca, "--out", f.tamKey)
	var err error
	if f.key, err = suit.ParsePublicKeyPEM(mustRead(t, f.tamKey)); err != nil {
		t.Fatal(err)
	}
	f.api("admin", "author", "add", "--name", "acme", "--kind", "ta", "--key", filepath.Join(keys, "acme.pub.pem"), "--prefix", "TA/acme")
	f.api("admin", "user", "add", "acme-ci", "--role", "ta-author", "--author", "acme")
	f.api("admin", "user", "add", "ops", "--role", "operator")
	for _, u := range []string{"acme-ci", "ops"} {
		f.tokens[u] = strings.TrimSpace(f.api("admin", "token", "create", "--user", u, "--expires", "1h"))
	}
	return f
}

// run is a teeup command that must succeed; its standard output.
func (f *tamFixture) run(args ...string) string {
	f.t.Helper()
	out, e, code := teeup(f.t, args...)
	if code != 0 {
		f.t.Fatalf("teeup %s: exit %d\n%s%s", strings.Join(args, " "), code, out, e)
	}
	return out
}

// api is a teeup tam command run as user against the TAM.
func (f *tamFixture) api(user string, args ...string) string {
	f.t.Helper()
	return f.run(append(append([]string{"tam"}, args...), "--tam", f.tam.url, "--tam-ca", f.ca, "--token", f.tokens[user])...)
}

// publishTA has acme sign and publish TA/acme/NAME at seq, its payload
// served by the TAM.
func (f *tamFixture) publishTA(name string, seq int) {
	f.t.Helper()
	payload := filepath.Join(f.dir, fmt.Sprintf("%s-%d.ta", name, seq))
	body := []byte(strings.Repeat(fmt.Sprintf("TA %s of acme, release %d\n", name, seq), 64))
	os.WriteFile(payload, body, 0o644)
	sum := sha256.Sum256(body)
	spec := filepath.Join(f.dir, fmt.Sprintf("%s-%d.json", name, seq))
	os.WriteFile(spec, fmt.Appendf(nil, `{"sequence-number": %d,
	  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
	  "components": [{"id": ["'TA'", "'acme'", %q], "file": %q, "uri": "%s/payloads/%x"}]}`,
		seq, "'"+name+"'", filepath.Base(payload), f.tam.url, sum), 0o644)
	env := strings.TrimSuffix(spec, ".json") + ".suit"
	f.run("manifest", "create", spec, "--key", filepath.Join(f.dir, "keys", "acme.pem"), "--out", env)
	f.api("acme-ci", "publish", env, payload)
}

// tamDevice is a device made for the fixture's TAM and registered there.
type tamDevice struct {
	*runningDevice
	id string
}

// newDevice makes a device that trusts the fixture's keys and TAM and
// registers it with the reference values of reference (its own factory
// reference when empty); initArgs go to device init.
func (f *tamFixture) newDevice(name, reference string, initArgs ...string) *tamDevice {
	f.t.Helper()
	dir := filepath.Join(f.dir, name)
	keys := filepath.Join(f.dir, "keys")
	f.run(append([]string{"device", "init", "--dir", dir, "--author-key", filepath.Join(keys, "author.pem"),
		"--operator-key", filepath.Join(keys, "operator.pem"), "--ta-author", "acme=" + filepath.Join(keys, "acme.pub.pem"),
		"--tam-key", f.tamKey}, initArgs...)...)
	if reference == "" {
		reference = filepath.Join(dir, "factory-reference.json")
	}
	var d catalog.DeviceJSON
	out := f.api("ops", "device", "add", "--endorsement", filepath.Join(dir, "identity", "endorsement.json"),
		"--reference", reference, "--name", name, "--json")
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.ID == "" {
		f.t.Fatalf("device add printed %q: %v", out, err)
	}
	return &tamDevice{runningDevice: &runningDevice{t: f.t, dir: dir, log: &lockedBuffer{}}, id: d.ID}
}

// run starts the device with its broker pointed at tamURL (the TAM, or a
// proxy before it); its first session follows its boot.
func (d *tamDevice) run(tamURL, ca string) {
	d.t.Helper()
	d.args = []string{"--health-cmd", "true", "--tam", tamURL, "--tam-ca", ca, "--poll", "1h"}
	d.t.Cleanup(func() {
		d.stop()
		if d.t.Failed() {
			d.t.Logf("device %s log:\n%s", d.id, d.log.String())
		}
	})
	d.start()
}

// status is the TAM's status of device id (zero when absent).
func (f *tamFixture) status(id string) catalog.DeviceStatus {
	f.t.Helper()
	var s catalog.StatusJSON
	if err := json.Unmarshal([]byte(f.api("ops", "status", "--json")), &s); err != nil {
		f.t.Fatal(err)
	}
	for _, d := range s.Devices {
		if d.ID == id {
			return d
		}
	}
	return catalog.DeviceStatus{}
}

// succeeded says whether the TAM's last report of device id is a
// Success; false also when the TAM does not answer (a test may be
// restarting it).
func (f *tamFixture) succeeded(id string) bool {
	out, _, code := teeup(f.t, "tam", "status", "--json", "--tam", f.tam.url, "--tam-ca", f.ca, "--token", f.tokens["ops"])
	var s catalog.StatusJSON
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		return false
	}
	for _, d := range s.Devices {
		if d.ID == id {
			return d.LastReport != nil && d.LastReport.Success
		}
	}
	return false
}

// exchange is one POST /tam a proxy relayed: the request's body, the
// TAM's answer (status, body), and what the proxy answered instead, if
// it replaced it.
type exchange struct {
	session, n int // n: 0 for the empty POST that opens a session
	req        []byte
	status     int
	resp       []byte
}

// teepProxy relays a broker's TEEP requests to a TAM and records them.
// before runs ahead of each POST's forwarding (a test may kill and
// restart the TAM there); replace may change the TAM's answer.
type teepProxy struct {
	t       *testing.T
	target  string
	hc      *http.Client
	srv     *httptest.Server
	before  func(x exchange)
	replace func(x exchange) (status int, body []byte, ok bool)

	mu        sync.Mutex
	session   int
	n         int
	exchanges []exchange
	// inFlight counts the POSTs taken and not yet recorded.
	inFlight int
}

func newTEEPProxy(t *testing.T, f *tamFixture) *teepProxy {
	t.Helper()
	cfg, err := client.TLSConfig(mustRead(t, f.ca))
	if err != nil {
		t.Fatal(err)
	}
	p := &teepProxy{t: t, target: f.tam.url, hc: &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: e2eWait}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *teepProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	x := exchange{req: body}
	if r.Method == http.MethodPost && r.URL.Path == "/tam" {
		p.mu.Lock()
		if len(body) == 0 {
			p.session++
			p.n = 0
		} else {
			p.n++
		}
		x.session, x.n = p.session, p.n
		p.inFlight++
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.inFlight--
			p.mu.Unlock()
		}()
		if p.before != nil {
			p.before(x)
		}
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body)) //nolint:gosec // G704: the test's own TAM on loopback
	req.Header = r.Header.Clone()
	resp, err := p.hc.Do(req) //nolint:gosec // G704: the proxy's target is the test's own TAM on loopback
	if err != nil {
		// The broker sees what it would see of a TAM that is down.
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/tam" {
		copyHeader(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
		return
	}
	x.status, x.resp = resp.StatusCode, answer
	status, out := resp.StatusCode, answer
	if p.replace != nil {
		if s, b, ok := p.replace(x); ok {
			status, out = s, b
		}
	}
	p.mu.Lock()
	p.exchanges = append(p.exchanges, x)
	p.mu.Unlock()
	copyHeader(w.Header(), resp.Header)
	if len(out) > 0 {
		w.Header().Set("Content-Type", "application/teep+cbor")
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	w.Write(out)
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// recorded is what the proxy relayed so far, once no POST it took is
// on its way (or after e2eWait). The TAM acts on a message before it
// answers it, so a test that saw the effect at the TAM (a Success in its
// status) could otherwise read the recording before the proxy, between
// the TAM's answer and its own record of it, has added that exchange.
func (p *teepProxy) recorded() []exchange {
	deadline := time.Now().Add(e2eWait)
	for {
		p.mu.Lock()
		if p.inFlight == 0 || time.Now().After(deadline) {
			defer p.mu.Unlock()
			return append([]exchange(nil), p.exchanges...)
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
}

// find is the first exchange recorded with that n whose TAM answer was a
// message of type want (opened with key), or nil.
func find[M teep.Message](t *testing.T, xs []exchange, n int, key *suit.Key) (*exchange, M) {
	t.Helper()
	var zero M
	for i := range xs {
		if xs[i].n != n || len(xs[i].resp) == 0 {
			continue
		}
		s, err := teep.Open(xs[i].resp, []*suit.Key{key}, teep.Draft26)
		if err != nil {
			continue
		}
		if m, ok := s.Message.(M); ok {
			return &xs[i], m
		}
	}
	return nil, zero
}

// agentKey is the public key of a device's TEEP Agent.
func agentKey(t *testing.T, dir string) *suit.Key {
	t.Helper()
	k, err := suit.ParsePublicKeyPEM(mustRead(t, filepath.Join(dir, "identity", "agent.pub.pem")))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestTAMNumberings: the Agent of a real device completes a session with
// a TAM serving each numbering (teeup tam serve --numbering): the
// QueryRequest and the Update are in the TAM's numbering, the Agent's
// QueryResponse and Success in the same, and the TA installs.
func TestTAMNumberings(t *testing.T) {
	for _, c := range []struct {
		flag string
		want teep.Numbering
	}{{"draft26", teep.Draft26}, {"earlier", teep.Legacy}} {
		t.Run(c.flag, func(t *testing.T) {
			t.Parallel()
			f := newTAMFixture(t, "--numbering", c.flag)
			f.publishTA("hello", 1)
			d := f.newDevice("dev", "")
			proxy := newTEEPProxy(t, f)
			d.run(proxy.srv.URL, f.ca)
			waitFor(t, "the Success at the TAM", func() bool { return f.succeeded(d.id) })

			agent := agentKey(t, d.dir)
			var opened []string
			for _, x := range proxy.recorded() {
				if x.session != 1 {
					continue
				}
				for _, m := range []struct {
					raw []byte
					key *suit.Key
				}{{x.req, agent}, {x.resp, f.key}} {
					if len(m.raw) == 0 {
						continue
					}
					s, err := teep.OpenAs(m.raw, []*suit.Key{m.key}, c.want)
					if err != nil {
						t.Fatalf("message %d of the first session is not a %v message signed by its sender: %v", x.n, c.want, err)
					}
					opened = append(opened, fmt.Sprintf("%T", s.Message))
				}
			}
			if got := strings.Join(opened, " "); got != "*teep.QueryRequest *teep.QueryResponse *teep.Update *teep.Success" {
				t.Fatalf("the first session exchanged %s", got)
			}
			if out, _ := teeupOK(t, "device", "status", "--dir", d.dir); !strings.Contains(out, "TA ['TA','acme','hello']: sequence 1, ") {
				t.Fatalf("the device does not report the TA:\n%s", out)
			}
		})
	}
}

// teeupOK is a teeup command that must succeed.
func teeupOK(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, e, code := teeup(t, args...)
	if code != 0 {
		t.Fatalf("teeup %s: exit %d\n%s%s", strings.Join(args, " "), code, out, e)
	}
	return out, e
}

// TestTAMKilledMidSession: the TAM process is killed (SIGKILL, as a power
// cut) after it sent an Update and before the device's Success reaches
// it, then started again on the same data folder and port. The Success
// is delivered to the new process: the session completes, the report is
// recorded, and the tokens made before the cut still work.
func TestTAMKilledMidSession(t *testing.T) {
	f := newTAMFixture(t)
	f.publishTA("hello", 1)
	d := f.newDevice("dev", "")
	proxy := newTEEPProxy(t, f)
	var cuts atomic.Int32
	proxy.before = func(x exchange) {
		if x.session == 1 && x.n == 2 { // the Agent's answer to the Update
			f.tam.kill()
			cuts.Add(1)
			f.tam.start()
			proxy.hc.CloseIdleConnections()
		}
	}
	d.run(proxy.srv.URL, f.ca)
	waitFor(t, "the Success at the TAM", func() bool { return f.succeeded(d.id) })
	if n := cuts.Load(); n != 1 {
		t.Fatalf("the TAM was killed %d times, want once, between the Update and the Success", n)
	}
	xs := proxy.recorded()
	x, _ := find[*teep.Update](t, xs, 1, f.key)
	if x == nil || x.session != 1 {
		t.Fatal("the first session had no Update")
	}
	var success *exchange
	for i := range xs {
		if xs[i].session == 1 && xs[i].n == 2 {
			success = &xs[i]
		}
	}
	s, err := teep.Open(success.req, []*suit.Key{agentKey(t, d.dir)}, teep.Draft26)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Message.(*teep.Success); !ok || success.status != http.StatusNoContent {
		t.Fatalf("after the restart the TAM answered the Agent's %T with %d, want a Success answered 204", s.Message, success.status)
	}
	st := f.status(d.id)
	if st.LastReport == nil || !st.LastReport.Success || len(st.LastReport.Envelopes) != 1 {
		t.Fatalf("the TAM's last report %+v, want the Success of the TA's envelope", st.LastReport)
	}
}

// TestTAMAttacks: what the network can replay gets nothing. A device
// (evil) whose evidence does not appraise (registered with another
// device's reference values, its secure image being its own) gets no
// Update; the proxy then gives it the Update it captured for the honest
// device: its Agent refuses it with an Error and installs nothing. The
// honest device's QueryResponse, posted again to the TAM, is refused and
// changes nothing.
func TestTAMAttacks(t *testing.T) {
	f := newTAMFixture(t)
	f.publishTA("hello", 1)
	honest := f.newDevice("honest", "")
	proxy := newTEEPProxy(t, f)
	honest.run(proxy.srv.URL, f.ca)
	waitFor(t, "the Success at the TAM", func() bool { return f.succeeded(honest.id) })
	captured, _ := find[*teep.Update](t, proxy.recorded(), 1, f.key)
	if captured == nil {
		t.Fatal("the honest device's session had no Update")
	}

	// The honest device's QueryResponse, replayed. The device is stopped
	// first: a session of its own (the TAM may ask for one at once) would
	// change its record too.
	honest.stop()
	before := f.status(honest.id)
	var queryResponse []byte
	for _, x := range proxy.recorded() {
		if x.session == captured.session && x.n == 1 {
			queryResponse = x.req
		}
	}
	status, answer := postTEEP(t, proxy, queryResponse)
	if status == http.StatusOK {
		if s, err := teep.Open(answer, []*suit.Key{f.key}, teep.Draft26); err != nil {
			t.Fatalf("the replay's answer: %v", err)
		} else if _, ok := s.Message.(*teep.Error); !ok {
			t.Fatalf("a replayed QueryResponse was answered with a %T, want a TEEP Error", s.Message)
		}
	} else if status < 400 {
		t.Fatalf("a replayed QueryResponse was answered %d", status)
	}
	after := f.status(honest.id)
	if !after.LastSeen.Equal(before.LastSeen) || !after.Attestation.Time.Equal(before.Attestation.Time) || !after.LastReport.Time.Equal(before.LastReport.Time) {
		t.Fatalf("the replay changed the device's record: %+v, then %+v", before, after)
	}

	// A device the TAM does not find trustworthy, given the honest
	// device's Update.
	other := filepath.Join(f.dir, "other-secure.bin")
	os.WriteFile(other, bytes.Repeat([]byte("a secure image nobody published\n"), 64), 0o644)
	evil := f.newDevice("evil", filepath.Join(honest.dir, "factory-reference.json"), "--secure-image", other)
	var given atomic.Bool
	proxy.replace = func(x exchange) (int, []byte, bool) {
		if x.session > captured.session && x.n == 1 {
			given.Store(true)
			return http.StatusOK, captured.resp, true
		}
		return 0, nil, false
	}
	evil.run(proxy.srv.URL, f.ca)
	waitFor(t, "the evil device's answer to the replayed Update", func() bool {
		for _, x := range proxy.recorded() {
			if x.session > captured.session && x.n == 2 {
				return true
			}
		}
		return false
	})
	if !given.Load() {
		t.Fatal("the proxy never gave the evil device the captured Update")
	}
	var evilAnswer []byte
	for _, x := range proxy.recorded() {
		switch {
		case x.session > captured.session && x.n == 1:
			if x.status != http.StatusNoContent || len(x.resp) != 0 {
				t.Fatalf("the TAM answered the untrustworthy device's QueryResponse with %d and %d bytes, want 204 and nothing", x.status, len(x.resp))
			}
		case x.session > captured.session && x.n == 2:
			evilAnswer = x.req
		}
	}
	s, err := teep.Open(evilAnswer, []*suit.Key{agentKey(t, evil.dir)}, teep.Draft26)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := s.Message.(*teep.Error); !ok || e.Code != teep.ErrPermanentError {
		t.Fatalf("the evil device's Agent answered the replayed Update with %#v, want ERR_PERMANENT_ERROR", s.Message)
	}
	st := f.status(evil.id)
	if st.Attestation == nil || st.Attestation.Status == "affirming" {
		t.Fatalf("the TAM recorded the evil device's attestation as %+v, want it not affirming", st.Attestation)
	}
	if out, _ := teeupOK(t, "device", "status", "--dir", evil.dir); strings.Contains(out, "TA ['TA','acme','hello']") {
		t.Fatalf("the evil device installed the honest device's TA:\n%s", out)
	}
}

// postTEEP posts a TEEP message to the proxy's TAM directly (not through
// the proxy): its status and body.
func postTEEP(t *testing.T, p *teepProxy, msg []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target+"/tam", bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/teep+cbor")
	req.Header.Set("Accept", "application/teep+cbor")
	resp, err := p.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}
