package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/fetch"
)

// answer is one HTTP answer of the fake TAM.
type answer struct {
	status      int
	contentType string
	retryAfter  string
	body        []byte
	hangUp      bool // close the connection without an answer
	stall       bool // answer nothing until the client gives up
}

// teep is a 200 carrying a TEEP message.
func teep(msg string) answer {
	return answer{status: http.StatusOK, contentType: broker.MediaType, body: []byte(msg)}
}

// over is the 204 that ends a session.
var over = answer{status: http.StatusNoContent}

// seen is one request the fake TAM got.
type seen struct {
	method, path, query      string
	accept, contentType, rng string
	body                     string
}

// fakeTAM speaks TEEP over HTTP as draft-ietf-teep-otrp-over-http says a
// TAM does: POST /tam answers the next message of its script for the body
// it got (keyed by the body, "" for the empty POST that opens a session),
// or 204; GET /tam/poll answers from its poll queue, 204 when it is
// empty; GET /payloads/NAME serves a payload with Range and ETag. Faults
// queued in before are answered first, one per request, whatever the
// request. It records every request.
type fakeTAM struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	script   map[string]answer
	before   []answer
	polls    []answer
	payloads map[string][]byte
	cutAt    map[string]int // a payload's first GET is cut after this many bytes
	requests []seen
}

func newFakeTAM(t *testing.T, script map[string]answer) *fakeTAM {
	t.Helper()
	f := &fakeTAM{t: t, script: script, payloads: map[string][]byte{}, cutAt: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tam", f.teep)
	mux.HandleFunc("GET /tam/poll", f.poll)
	mux.HandleFunc("GET /payloads/{name}", f.payload)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.Header.Get("Range"), string(body)})
		var fault *answer
		if len(f.before) > 0 {
			fault = &f.before[0]
			f.before = f.before[1:]
		}
		f.mu.Unlock()
		if fault != nil && fault.stall {
			<-r.Context().Done()
			return
		}
		if fault != nil {
			f.write(w, *fault)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTAM) write(w http.ResponseWriter, a answer) {
	if a.hangUp {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
		return
	}
	if a.contentType != "" {
		w.Header().Set("Content-Type", a.contentType)
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	w.WriteHeader(a.status)
	w.Write(a.body)
}

// teep checks the request is TEEP over HTTP and answers from the script.
func (f *fakeTAM) teep(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	wantType := broker.MediaType
	if len(body) == 0 {
		wantType = "" // the empty POST carries no message, so no type
	}
	if r.Header.Get("Accept") != broker.MediaType || r.Header.Get("Content-Type") != wantType {
		http.Error(w, "not TEEP over HTTP", http.StatusUnsupportedMediaType)
		return
	}
	f.mu.Lock()
	a, ok := f.script[string(body)]
	f.mu.Unlock()
	if !ok {
		a = over
	}
	f.write(w, a)
}

func (f *fakeTAM) poll(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	a := over
	if len(f.polls) > 0 {
		a, f.polls = f.polls[0], f.polls[1:]
	}
	f.mu.Unlock()
	f.write(w, a)
}

func (f *fakeTAM) payload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f.mu.Lock()
	b, ok := f.payloads[name]
	cut, cutting := f.cutAt[name]
	delete(f.cutAt, name)
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", strconv.Quote(name))
	if cutting {
		// The whole payload announced, part of it sent, the connection
		// cut: what a dropped mobile link looks like.
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:cut])
		http.NewResponseController(w).Flush()
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}

// addPayload serves b at /payloads/name and returns its URI.
func (f *fakeTAM) addPayload(name string, b []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.payloads[name] = b
	return f.srv.URL + "/payloads/" + name
}

func (f *fakeTAM) fail(answers ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = append(f.before, answers...)
}

func (f *fakeTAM) queuePolls(answers ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls = append(f.polls, answers...)
}

// seen returns the requests so far whose path is path.
func (f *fakeTAM) seen(path string) []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []seen
	for _, r := range f.requests {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// teepBodies returns the bodies POSTed to /tam, in order.
func (f *fakeTAM) teepBodies() []string {
	var out []string
	for _, r := range f.seen("/tam") {
		out = append(out, r.body)
	}
	return out
}

// agent is a fake secure world whose TEEP Agent answers from a script:
// the answer to each message (keyed by the message, "" for a continue).
// It records every call through ipctest.Handler.
type agent struct {
	*ipctest.Handler
	mu     sync.Mutex
	script map[string]*ipc.RelayTEEPResult
}

func (a *agent) RelayTEEP(ctx context.Context, msg []byte) (*ipc.RelayTEEPResult, error) {
	if _, err := a.Handler.RelayTEEP(ctx, msg); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	res, ok := a.script[string(msg)]
	if !ok {
		return &ipc.RelayTEEPResult{}, nil
	}
	return res, nil
}

// connect serves h as the secure world of a new ipc client.
func connect(t *testing.T, h ipc.Handler) *ipc.Client {
	t.Helper()
	normal, secure := ipctest.Pipe()
	done := make(chan error, 1)
	go func() { done <- ipc.Serve(context.Background(), secure, h) }()
	c, err := ipc.NewClient(normal)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-done })
	return c
}

// sleeps records the waits a broker asked for, and waits none.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return context.Cause(ctx)
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

// rig is a broker between a fake TAM and a fake secure world.
type rig struct {
	tam    *fakeTAM
	agent  *agent
	sw     *ipc.Client
	sleeps *sleeps
	lines  []string
	cfg    broker.Config
}

func newRig(t *testing.T, tam map[string]answer, agentScript map[string]*ipc.RelayTEEPResult) *rig {
	t.Helper()
	r := &rig{tam: newFakeTAM(t, tam), agent: &agent{Handler: ipctest.NewHandler(), script: agentScript}, sleeps: &sleeps{}}
	r.sw = connect(t, r.agent)
	dl, err := fetch.New(fetch.Config{Client: r.tam.srv.Client(), ChunkSize: r.sw.MaxChunk(), Backoff: fetch.Backoff{Sleep: r.sleeps.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	r.cfg = broker.Config{TAM: r.tam.srv.URL, SW: r.sw, Client: r.tam.srv.Client(), Fetch: dl,
		Sleep: r.sleeps.sleep, Rand: seeded(), Progress: func(s string) { r.lines = append(r.lines, s) },
		Now: func() time.Time { return time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC) }}
	return r
}

func (r *rig) broker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.New(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writes returns the bytes the secure world got for set's payload index,
// in order.
func (r *rig) writes(set uint64, index uint32) []byte {
	var b []byte
	for _, c := range r.agent.Calls() {
		if a, ok := c.Args.(ipc.WriteChunkArgs); ok && a.Set == set && a.Payload == index {
			if uint64(len(b)) != a.Offset {
				panic(fmt.Sprintf("chunk at %d after %d bytes", a.Offset, len(b)))
			}
			b = append(b, a.Data...)
		}
	}
	return b
}
