package challenge_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/challenge"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

type sessionDoc struct {
	Nonce    []byte `json:"nonce"`
	Expiry   string `json:"expiry"`
	Accept   []string
	Status   string
	Evidence *struct {
		Type  string
		Value []byte
	}
	Result string
}

// rig is a server whose appraiser records what it was given and answers
// "good" for evidence that names the session's nonce (the evidence here
// is the nonce itself), "bad" otherwise, as a verifier would after
// consuming the nonce.
type rig struct {
	srv   *httptest.Server
	clock *clock
	seen  [][]byte
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clock: &clock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}}
	s := &challenge.Server{Now: r.clock.Now, Rand: seeded{rand.NewChaCha8([32]byte{5})}, TTL: time.Minute,
		Appraise: func(ev []byte, nonces *attest.NonceStore) (string, error) {
			r.seen = append(r.seen, ev)
			if bytes.Equal(ev, []byte("fail")) {
				return "", errors.New("no result")
			}
			if nonces.Consume(ev) != nil {
				return "bad", nil
			}
			return "good", nil
		}}
	r.srv = httptest.NewServer(s.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) do(t *testing.T, method, path, ctype string, body []byte) (*http.Response, sessionDoc) {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", challenge.SessionMediaType)
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer rsp.Body.Close()
	var doc sessionDoc
	if rsp.Header.Get("Content-Type") == challenge.SessionMediaType {
		if err := json.NewDecoder(rsp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
	}
	return rsp, doc
}

func (r *rig) open(t *testing.T, query string) (string, sessionDoc) {
	t.Helper()
	rsp, doc := r.do(t, http.MethodPost, "/challenge-response/v1/newSession"+query, "", nil)
	if rsp.StatusCode != http.StatusCreated || doc.Status != "waiting" || !strings.HasPrefix(rsp.Header.Get("Location"), "session/") {
		t.Fatalf("newSession%s: %d %+v %q", query, rsp.StatusCode, doc, rsp.Header.Get("Location"))
	}
	return "/challenge-response/v1/" + rsp.Header.Get("Location"), doc
}

// TestChallengeResponse: a session gets a fresh nonce (of the size asked,
// or the one given); the evidence submitted for it is appraised with a
// verifier that issued that nonce only, once; the session then holds the
// evidence and the result, can be read and deleted.
func TestChallengeResponse(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	path, doc := r.open(t, "")
	if len(doc.Nonce) != challenge.DefaultNonceSize || len(doc.Accept) != 1 || doc.Accept[0] != challenge.EvidenceMediaType {
		t.Fatalf("session %+v", doc)
	}
	other, otherDoc := r.open(t, "?nonceSize=16")
	if len(otherDoc.Nonce) != 16 || bytes.Equal(otherDoc.Nonce, doc.Nonce) {
		t.Fatalf("a second session's nonce %x", otherDoc.Nonce)
	}
	// The other session's nonce is not this session's.
	if rsp, got := r.do(t, http.MethodPost, path, challenge.EvidenceMediaType, otherDoc.Nonce); rsp.StatusCode != http.StatusOK || got.Result != "bad" {
		t.Fatalf("evidence for another session's nonce: %d %+v", rsp.StatusCode, got)
	}
	if rsp, got := r.do(t, http.MethodPost, other, challenge.EvidenceMediaType, otherDoc.Nonce); rsp.StatusCode != http.StatusOK ||
		got.Status != "complete" || got.Result != "good" || got.Evidence == nil || !bytes.Equal(got.Evidence.Value, otherDoc.Nonce) {
		t.Fatalf("evidence for the session's nonce: %d %+v", rsp.StatusCode, got)
	}
	if rsp, _ := r.do(t, http.MethodPost, other, challenge.EvidenceMediaType, otherDoc.Nonce); rsp.StatusCode != http.StatusConflict {
		t.Fatalf("a second submission: %d", rsp.StatusCode)
	}
	if rsp, got := r.do(t, http.MethodGet, other, "", nil); rsp.StatusCode != http.StatusOK || got.Result != "good" {
		t.Fatalf("GET: %d %+v", rsp.StatusCode, got)
	}
	if rsp, _ := r.do(t, http.MethodDelete, other, "", nil); rsp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d", rsp.StatusCode)
	}
	if rsp, _ := r.do(t, http.MethodGet, other, "", nil); rsp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET after DELETE: %d", rsp.StatusCode)
	}
	given := []byte("the relying party's nonce")
	_, doc = r.open(t, "?nonce="+base64.StdEncoding.EncodeToString(given))
	if !bytes.Equal(doc.Nonce, given) {
		t.Fatalf("a given nonce became %x", doc.Nonce)
	}
}

// TestChallengeResponseRefusals: bad requests are refused with their
// status, and an expired session is gone with its nonce.
func TestChallengeResponseRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	for _, q := range []string{"?nonceSize=7", "?nonceSize=65", "?nonceSize=x", "?nonce=!!!!", "?nonce=" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		if rsp, _ := r.do(t, http.MethodPost, "/challenge-response/v1/newSession"+q, "", nil); rsp.StatusCode != http.StatusBadRequest {
			t.Errorf("newSession%s: %d, want 400", q, rsp.StatusCode)
		}
	}
	path, doc := r.open(t, "")
	if rsp, _ := r.do(t, http.MethodPost, path, "application/psa-attestation-token", doc.Nonce); rsp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("another evidence type: %d, want 415", rsp.StatusCode)
	}
	if rsp, _ := r.do(t, http.MethodPost, path, challenge.EvidenceMediaType, make([]byte, attest.MaxEvidence+1)); rsp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize evidence: %d, want 413", rsp.StatusCode)
	}
	if rsp, got := r.do(t, http.MethodPost, path, challenge.EvidenceMediaType, []byte("fail")); rsp.StatusCode != http.StatusInternalServerError {
		t.Errorf("an appraiser failure: %d %+v, want 500", rsp.StatusCode, got)
	}
	if rsp, _ := r.do(t, http.MethodGet, "/challenge-response/v1/session/nope", "", nil); rsp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown session: %d", rsp.StatusCode)
	}
	late, lateDoc := r.open(t, "")
	r.clock.add(time.Minute)
	if rsp, _ := r.do(t, http.MethodPost, late, challenge.EvidenceMediaType, lateDoc.Nonce); rsp.StatusCode != http.StatusNotFound {
		t.Errorf("evidence after the session expired: %d, want 404", rsp.StatusCode)
	}
	if n := len(r.seen); n != 1 {
		t.Errorf("the appraiser saw %d submissions, want only the one that reached it", n)
	}
}
