package teepsrv

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// MediaType is the media type of TEEP messages over HTTP.
const MediaType = "application/teep+cbor"

// ServeTEEP is the TEEP endpoint, POST /tam (draft-ietf-teep-otrp-over-
// http): the body is a TEEP message or empty (a new session); the answer
// is 200 with the TAM's next message, or 204 when it has none. A body of
// another content type is 415, one over MaxBody 413; a message that does
// not verify with a registered device's key 400 (not a COSE_Sign1 with a
// kid) or 403; a fault of the TAM 500, and a long poll cut short by
// shutdown 503.
func (s *Server) ServeTEEP(w http.ResponseWriter, r *http.Request) {
	// The headers otrp-over-http asks of every TAM answer.
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, fmt.Sprintf("a TEEP message holds at most %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != MediaType {
			http.Error(w, "a TEEP message is "+MediaType, http.StatusUnsupportedMediaType)
			return
		}
	}
	answer, err := s.Handle(r.Context(), body)
	switch {
	case answer != nil:
		// A refused message of a registered device is answered with a
		// TEEP Error, which is an answer like any other.
		h.Set("Content-Type", MediaType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answer) // a client that hung up has nothing more to hear
	case errors.Is(err, ErrUnsigned):
		s.log.Info("teep refused", "remote", r.RemoteAddr, "why", err)
		http.Error(w, "not signed by a registered device", http.StatusForbidden)
	case errors.Is(err, ErrRefused):
		s.log.Info("teep refused", "remote", r.RemoteAddr, "why", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		s.log.Error("teep", "remote", r.RemoteAddr, "err", err)
		http.Error(w, "the TAM failed; try again later", http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// ServePoll is the long poll, GET /tam/poll?device=ID&wait=30s: 200 as
// soon as the TAM has something the device has not seen (a publish, a
// personalization for it, its registration), 204 when wait passes first
// (DefaultPollWait when absent, at most MaxPollWait). An unregistered
// device is 404; too many polls waiting 503, as is a poll cut short by a
// shutdown.
func (s *Server) ServePoll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	id := q.Get("device")
	if id == "" || len(id) > MaxDeviceIDSize {
		http.Error(w, "device=ID is required (the hex thumbprint of its Agent key)", http.StatusBadRequest)
		return
	}
	wait := DefaultPollWait
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > MaxPollWait {
			http.Error(w, fmt.Sprintf("wait must be a duration up to %s", MaxPollWait), http.StatusBadRequest)
			return
		}
		wait = d
	}
	if _, err := s.cfg.Store.Device(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			http.Error(w, "no such device", http.StatusNotFound)
			return
		}
		s.log.Error("poll", "device", id, "err", err)
		http.Error(w, "the TAM failed; try again later", http.StatusInternalServerError)
		return
	}
	news, err := s.notices.wait(r.Context(), id, wait)
	switch {
	case news:
		w.WriteHeader(http.StatusOK)
	case errors.Is(err, errTooManyPollers), errors.Is(err, errClosed):
		w.Header().Set("Retry-After", "5")
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
