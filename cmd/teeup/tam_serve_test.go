package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
)

// tamProcess is a `teeup tam serve` running as its own process.
type tamProcess struct {
	cmd    *exec.Cmd
	url    string
	out    bytes.Buffer // what it printed up to its listen line
	rest   chan string  // what it printed after, once it exits
	stderr bytes.Buffer
}

var listenLine = regexp.MustCompile(`TAM listening on (\S+) `)

// startTAM starts teeup tam serve with args and waits for its listen line.
func startTAM(t *testing.T, args ...string) *tamProcess {
	t.Helper()
	p := &tamProcess{cmd: exec.Command(os.Args[0], append([]string{"tam", "serve"}, args...)...), rest: make(chan string, 1)}
	p.cmd.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill() // the test failed before it stopped the TAM
			_ = p.cmd.Wait()
		}
	})
	r := bufio.NewReader(stdout)
	for p.url == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("tam serve ended before listening: %v\n%s%s", err, p.out.String(), p.stderr.String())
		}
		p.out.WriteString(line)
		if m := listenLine.FindStringSubmatch(line); m != nil {
			p.url = m[1]
		}
	}
	go func() {
		b, _ := io.ReadAll(r)
		p.rest <- string(b)
	}()
	return p
}

// stop interrupts the TAM as Ctrl-C does and checks it stops cleanly.
func (p *tamProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	if rest := <-p.rest; err != nil || !strings.Contains(rest, "TAM stopped") {
		t.Fatalf("tam serve after Ctrl-C: %v, printed %q\n%s", err, rest, p.stderr.String())
	}
}

// teeup tam serve: a TAM that answers TEEP with the key it made on its
// first start and keeps across restarts, over plain HTTP only when asked
// and over TLS with its self-signed certificate otherwise; Ctrl-C stops
// it, also with a long poll waiting.
func TestTAMServe(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "tam")

	p := startTAM(t, "--data", data, "--listen", "127.0.0.1:0", "--insecure-http", "--numbering", "earlier")
	if !strings.HasPrefix(p.url, "http://") || !strings.Contains(p.out.String(), "(made now)") {
		t.Fatalf("first start printed %q, want plain HTTP and a key made now", p.out.String())
	}
	thumbprint := regexp.MustCompile(`thumbprint ([0-9a-f]{64})`).FindString(p.out.String())
	key := tamKey(t, http.DefaultClient, p.url)
	rsp, err := http.Post(p.url+"/tam", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	s, err := teep.Open(body, []*suit.Key{key}, teep.Legacy)
	if err != nil || s.Numbering != teep.Legacy {
		t.Fatalf("POST /tam: %s, %v; want a QueryRequest signed with the TAM key, in the earlier numbering", rsp.Status, err)
	}
	if st, err := os.Stat(filepath.Join(data, "tam-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tam-key.pem: %v, want mode 0600", err)
	}
	poll := make(chan error, 1)
	go func() {
		_, err := http.Get(p.url + "/tam/poll?device=00&wait=1m")
		poll <- err
	}()
	p.stop(t)
	<-poll

	p = startTAM(t, "--data", data, "--listen", "127.0.0.1:0")
	if !strings.HasPrefix(p.url, "https://") || strings.Contains(p.out.String(), "TAM key "+filepath.Join(data, "tam-key.pem")+" (made now)") ||
		!strings.Contains(p.out.String(), thumbprint) || !strings.Contains(p.out.String(), "fingerprint") {
		t.Fatalf("second start printed %q, want HTTPS, the same key %s, and the certificate's fingerprint", p.out.String(), thumbprint)
	}
	tlsConfig, err := auth.ClientTLS(mustReadFile(t, filepath.Join(data, "tls-cert.pem")))
	if err != nil {
		t.Fatal(err)
	}
	pinned := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}, Timeout: 10 * time.Second}
	if again := tamKey(t, pinned, p.url); !again.Public.(*ecdsa.PublicKey).Equal(key.Public) {
		t.Fatal("the TAM key changed across a restart")
	}
	p.stop(t)

	// teeup tam key prints the same key, read from the folder.
	if out, stderr, code := teeup(t, "tam", "key", "--data", data); code != 0 || !strings.Contains(stderr, strings.TrimPrefix(thumbprint, "thumbprint ")) {
		t.Fatalf("tam key --data: exit %d, %s", code, stderr)
	} else if k, err := suit.ParsePublicKeyPEM([]byte(out)); err != nil || !k.Public.(*ecdsa.PublicKey).Equal(key.Public) {
		t.Fatalf("tam key --data printed %q (%v), want the TAM's public key", out, err)
	}
	if _, _, code := teeup(t, "tam", "key", "--data", t.TempDir()); code != exitFailure {
		t.Fatalf("tam key of a folder without a key: exit %d, want 1 (and no key made)", code)
	}

	if _, stderr, code := teeup(t, "tam", "serve", "--data", data, "--listen", "127.0.0.1:0", "--numbering", "draft25"); code != exitUsage || !strings.Contains(stderr, "numbering") {
		t.Fatalf("--numbering draft25: exit %d, %s; want a usage error", code, stderr)
	}
}

func tamKey(t *testing.T, c *http.Client, url string) *suit.Key {
	t.Helper()
	rsp, err := c.Get(url + "/api/v1/tam-key")
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	b, _ := io.ReadAll(rsp.Body)
	k, err := suit.ParsePublicKeyPEM(b)
	if err != nil {
		t.Fatalf("GET /api/v1/tam-key: %s: %v", rsp.Status, err)
	}
	return k
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// teeup tam serve --db postgres://...: the TAM's state goes to that
// PostgreSQL database (the first operator is found there, and nothing in
// DIR/tam.db), and a second TAM on the same database sees it.
func TestTAMServePostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	data := filepath.Join(t.TempDir(), "tam")
	p := startTAM(t, "--data", data, "--db", dsn, "--listen", "127.0.0.1:0", "--insecure-http", "--init-admin", "admin")
	tamKey(t, http.DefaultClient, p.url)
	p.stop(t)
	if _, err := os.Stat(filepath.Join(data, "tam.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DIR/tam.db with --db postgres: %v", err)
	}
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if a, err := st.Principal(t.Context(), "admin"); err != nil || !slices.Contains(a.Roles, store.RoleOperator) {
		t.Fatalf("the first operator in PostgreSQL: %+v, %v", a, err)
	}
	// A server that is not there: a failure that names it, never the
	// password.
	_, stderr, code := teeup(t, "tam", "serve", "--data", data, "--db", "postgres://tam:hunter2@127.0.0.1:1/tam", "--listen", "127.0.0.1:0", "--insecure-http")
	if code != exitFailure || !strings.Contains(stderr, "127.0.0.1:1") || strings.Contains(stderr, "hunter2") {
		t.Fatalf("--db of no server: exit %d, %s", code, stderr)
	}
}

// TestTAMServeTEEPRate: --teep-rate and --teep-burst reach the gate of a
// running TAM (a burst of 25, more than the default 20, passes; the next
// request is 429, since 0.001 a second refills nothing meanwhile), and
// values that would never refill or admit nothing are refused as usage.
func TestTAMServeTEEPRate(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "tam")
	for _, bad := range [][]string{
		{"--teep-rate", "0"},
		{"--teep-rate", "-5"},
		{"--teep-rate", "NaN"},
		{"--teep-rate", "inf"},
		{"--teep-rate", "fast"},
		{"--teep-burst", "0"},
		{"--teep-burst", "1.5"},
		{"--teep-rate", "2e6"},
	} {
		args := append([]string{"tam", "serve", "--data", data, "--listen", "127.0.0.1:0", "--insecure-http"}, bad...)
		if _, stderr, code := teeup(t, args...); code != exitUsage || !strings.Contains(stderr, bad[0]) {
			t.Errorf("%v: exit %d, %s; want a usage error naming the flag", bad, code, stderr)
		}
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused serve made its data folder: %v", err)
	}

	const burst = 25
	p := startTAM(t, "--data", data, "--listen", "127.0.0.1:0", "--insecure-http", "--teep-rate", "0.001", "--teep-burst", fmt.Sprint(burst))
	status := func() int {
		rsp, err := http.Post(p.url+"/tam", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, rsp.Body)
		rsp.Body.Close()
		return rsp.StatusCode
	}
	for i := range burst {
		if got := status(); got != http.StatusOK {
			t.Fatalf("request %d of a burst of %d: %d", i+1, burst, got)
		}
	}
	if got := status(); got != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d, want 429", got)
	}
	p.stop(t)
}
