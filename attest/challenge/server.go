// Package challenge is the verifier over HTTP with Veraison's
// challenge-response API (/challenge-response/v1/): a client opens a
// session and gets a nonce (POST newSession, with ?nonce= or
// ?nonceSize=), submits the evidence its device made for that nonce
// (POST session/ID), and reads the attestation result (the session's
// "result"); it may read (GET) or delete (DELETE) the session. Clients
// written for Veraison's API can use it. Verification runs at once: the
// answer to the submission is the completed session.
//
// Trust: none in the client. Each session's nonce is accepted once, for
// that session only, before the session expires; evidence is bounded
// (attest.MaxEvidence) and goes to the verifier, which trusts only its
// endorsements and reference values.
package challenge

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/teeup/teeup/attest"
)

// Media types of the API.
const (
	SessionMediaType = "application/rats-challenge-response-session+json"
	// EvidenceMediaType is the evidence this verifier accepts: attest's
	// wire form (an EAT, a TPM quote and the event log, in CBOR).
	EvidenceMediaType = "application/vnd.teeup.evidence+cbor"
	problemMediaType  = "application/problem+json"
)

// Appraiser verifies evidence with a verifier whose only issued nonce is
// in nonces, and returns the attestation result (an EAR, signed). An
// error means no result could be
// made at all (not a refusal of the evidence, which is a result).
type Appraiser func(evidence []byte, nonces *attest.NonceStore) (result string, err error)

// Server holds the sessions. Set Appraise; the other fields have defaults.
type Server struct {
	Appraise Appraiser
	// TTL is a session's life (DefaultTTL if 0).
	TTL time.Duration
	// Now is the clock (time.Now if nil); Rand the randomness of nonces
	// and session IDs (crypto/rand if nil).
	Now  func() time.Time
	Rand io.Reader

	mu       sync.Mutex
	sessions map[string]*session
}

// session is one challenge-response exchange.
type session struct {
	Nonce    []byte    `json:"nonce"`
	Expiry   time.Time `json:"expiry"`
	Accept   []string  `json:"accept"`
	Status   string    `json:"status"` // waiting, complete or failed
	Evidence *blob     `json:"evidence,omitempty"`
	Result   string    `json:"result,omitempty"`
	nonces   *attest.NonceStore
}

type blob struct {
	Type  string `json:"type"`
	Value []byte `json:"value"`
}

// Handler serves the API under /challenge-response/v1/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /challenge-response/v1/newSession", s.newSession)
	mux.HandleFunc("POST /challenge-response/v1/session/{id}", s.submit)
	mux.HandleFunc("GET /challenge-response/v1/session/{id}", s.get)
	mux.HandleFunc("DELETE /challenge-response/v1/session/{id}", s.remove)
	return mux
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

func (s *Server) newSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var nonce []byte
	switch {
	case q.Has("nonce"):
		n, err := base64.StdEncoding.DecodeString(q.Get("nonce"))
		if err != nil {
			problem(w, http.StatusBadRequest, "nonce is not base64: "+err.Error())
			return
		}
		nonce = n
	default:
		size := DefaultNonceSize
		if q.Has("nonceSize") {
			n, err := strconv.Atoi(q.Get("nonceSize"))
			if err != nil {
				problem(w, http.StatusBadRequest, "nonceSize is not a number")
				return
			}
			size = n
		}
		if size < attest.MinNonce || size > attest.MaxNonce {
			problem(w, http.StatusBadRequest, fmt.Sprintf("nonceSize %d: a nonce holds %d to %d bytes", size, attest.MinNonce, attest.MaxNonce))
			return
		}
		nonce = make([]byte, size)
		if _, err := io.ReadFull(s.rand(), nonce); err != nil {
			problem(w, http.StatusInternalServerError, "no randomness for a nonce")
			return
		}
	}
	ttl := s.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	nonces := &attest.NonceStore{TTL: ttl, Now: s.Now}
	if err := nonces.Register(nonce); err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	idBytes := make([]byte, 16)
	if _, err := io.ReadFull(s.rand(), idBytes); err != nil {
		problem(w, http.StatusInternalServerError, "no randomness for a session")
		return
	}
	id := hex.EncodeToString(idBytes)
	sess := &session{Nonce: nonce, Expiry: s.now().Add(ttl).UTC(), Accept: []string{EvidenceMediaType}, Status: "waiting", nonces: nonces}
	s.mu.Lock()
	s.expire()
	if len(s.sessions) >= MaxSessions {
		s.mu.Unlock()
		problem(w, http.StatusServiceUnavailable, fmt.Sprintf("%d sessions open, limit %d", MaxSessions, MaxSessions))
		return
	}
	if s.sessions == nil {
		s.sessions = map[string]*session{}
	}
	s.sessions[id] = sess
	body, err := json.Marshal(sess)
	s.mu.Unlock()
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Location", "session/"+id)
	reply(w, http.StatusCreated, body)
}

// expire forgets sessions past their expiry; s.mu is held.
func (s *Server) expire() {
	now := s.now()
	for id, sess := range s.sessions {
		if !now.Before(sess.Expiry) {
			delete(s.sessions, id)
		}
	}
}

// lookup returns the session named in the path, or answers 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	sess, ok := s.sessions[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "no such session, or it expired")
	}
	return sess, ok
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != EvidenceMediaType {
		problem(w, http.StatusUnsupportedMediaType, fmt.Sprintf("evidence of type %q; this verifier accepts %s", ct, EvidenceMediaType))
		return
	}
	ev, err := io.ReadAll(http.MaxBytesReader(w, r.Body, attest.MaxEvidence))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "evidence larger than the verifier accepts")
		return
	}
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if sess.Status != "waiting" {
		s.mu.Unlock()
		problem(w, http.StatusConflict, "the session already has its evidence")
		return
	}
	sess.Status = "processing"
	s.mu.Unlock()
	result, err := s.Appraise(ev, sess.nonces)
	s.mu.Lock()
	sess.Evidence = &blob{Type: EvidenceMediaType, Value: ev}
	sess.Status, sess.Result = "complete", result
	if err != nil {
		sess.Status = "failed"
	}
	body, merr := json.Marshal(sess)
	s.mu.Unlock()
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	if merr != nil {
		problem(w, http.StatusInternalServerError, merr.Error())
		return
	}
	reply(w, http.StatusOK, body)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	body, err := json.Marshal(sess)
	s.mu.Unlock()
	if err != nil {
		problem(w, http.StatusInternalServerError, err.Error())
		return
	}
	reply(w, http.StatusOK, body)
}

func (s *Server) remove(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.lookup(w, r); !ok {
		return
	}
	s.mu.Lock()
	delete(s.sessions, r.PathValue("id"))
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func reply(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", SessionMediaType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	_, _ = w.Write(body) // a client that hung up reads nothing more
}

// problem answers an RFC 9457 problem.
func problem(w http.ResponseWriter, code int, detail string) {
	body, _ := json.Marshal(map[string]any{"title": http.StatusText(code), "status": code, "detail": detail})
	w.Header().Set("Content-Type", problemMediaType)
	w.WriteHeader(code)
	_, _ = w.Write(body) // as in reply
}
