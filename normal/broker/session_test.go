package broker_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/normal/broker"
	"github.com/teeup/teeup/normal/fetch"
	"github.com/teeup/teeup/normal/payload"
)

func seeded() *rand.Rand { return rand.New(rand.NewPCG(14, 17)) }

// payloadOf is a deterministic payload of n bytes.
func payloadOf(n int) []byte {
	b := make([]byte, n)
	r := seeded()
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// ta is a payload request for a TA of set 43 at uri.
func ta(uri string, size int) []ipc.PayloadRequest {
	return []ipc.PayloadRequest{{Index: 0, Component: [][]byte{[]byte("TA"), []byte("acme")}, URI: uri, Size: uint64(size)}}
}

// TestSession: the sessions of TEEP over HTTP, message by message: what
// the TAM saw POSTed, what the Agent was given, and what the broker
// counted.
func TestSession(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		tam      map[string]answer
		agent    map[string]*ipc.RelayTEEPResult
		payload  bool // the update asks for img as payload 0 of set 43
		wantPost []string
		wantOps  []ipc.Op
		want     broker.Outcome
	}{
		{
			name:     "nothing to do",
			tam:      map[string]answer{"": over},
			wantPost: []string{""},
			want:     broker.Outcome{Requests: 1},
		},
		{
			name:     "query, no update",
			tam:      map[string]answer{"": teep("query-request"), "query-response": over},
			agent:    map[string]*ipc.RelayTEEPResult{"query-request": {Message: []byte("query-response")}},
			wantPost: []string{"", "query-response"},
			wantOps:  []ipc.Op{ipc.OpRelayTEEP},
			want:     broker.Outcome{Received: 1, Sent: 1, Requests: 2},
		},
		{
			name:     "update of a TA with no payload",
			tam:      map[string]answer{"": teep("query-request"), "query-response": teep("update"), "success": over},
			agent:    map[string]*ipc.RelayTEEPResult{"query-request": {Message: []byte("query-response")}, "update": {Message: []byte("success")}},
			wantPost: []string{"", "query-response", "success"},
			wantOps:  []ipc.Op{ipc.OpRelayTEEP, ipc.OpRelayTEEP},
			want:     broker.Outcome{Received: 2, Sent: 2, Requests: 3},
		},
		{
			name: "update of a firmware pair with a payload and a reboot",
			tam:  map[string]answer{"": teep("query-request"), "query-response": teep("update"), "success": over},
			agent: map[string]*ipc.RelayTEEPResult{
				"query-request": {Message: []byte("query-response")},
				"update":        {Set: 43}, // Payloads filled in below
				"":              {Message: []byte("success"), Reboot: true},
			},
			payload:  true,
			wantPost: []string{"", "query-response", "success"},
			wantOps:  []ipc.Op{ipc.OpRelayTEEP, ipc.OpRelayTEEP, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpRelayTEEP},
			want:     broker.Outcome{Received: 2, Sent: 2, Requests: 3, Payloads: 1, Reboot: true}, // PayloadBytes below
		},
		{
			name:     "the Agent has nothing to answer",
			tam:      map[string]answer{"": teep("error-from-tam")},
			wantPost: []string{""},
			wantOps:  []ipc.Op{ipc.OpRelayTEEP},
			want:     broker.Outcome{Received: 1, Requests: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, tc.tam, tc.agent)
			img := payloadOf(3*r.sw.MaxChunk() + 100)
			if tc.payload {
				tc.agent["update"].Payloads = ta(r.tam.addPayload("fw", img), len(img))
				tc.want.PayloadBytes = uint64(len(img))
			}
			out, err := r.broker(t).Session(context.Background())
			if err != nil {
				t.Fatalf("Session = %v", err)
			}
			if *out != tc.want {
				t.Errorf("outcome %+v, want %+v", *out, tc.want)
			}
			if got := r.tam.teepBodies(); !slices.Equal(got, tc.wantPost) {
				t.Errorf("the TAM got %q, want %q", got, tc.wantPost)
			}
			if got := r.agent.Ops(); !slices.Equal(got, tc.wantOps) {
				t.Errorf("the secure world saw %v, want %v", got, tc.wantOps)
			}
			if tc.payload && !bytes.Equal(r.writes(43, 0), img) {
				t.Error("the secure world did not get the payload's bytes")
			}
			// What crossed to the Agent is each message as the TAM sent it.
			var relayed []string
			for _, c := range r.agent.Calls() {
				if a, ok := c.Args.(ipc.RelayTEEPArgs); ok {
					relayed = append(relayed, string(a.Message))
				}
			}
			for i, m := range relayed {
				if m != "" && tc.tam[tc.wantPost[i]].body != nil && m != string(tc.tam[tc.wantPost[i]].body) {
					t.Errorf("relayed %q as message %d", m, i+1)
				}
			}
		})
	}
}

// TestSessionRetries: transient failures (the network, 5xx, 429) are
// retried up to the cap with a growing, jittered backoff, 429 after its
// Retry-After; the rest (4xx, answers that are not TEEP over HTTP, an
// oversize message) fail at once with their typed error.
func TestSessionRetries(t *testing.T) {
	t.Parallel()
	status := func(code int) answer { return answer{status: code} }
	for _, tc := range []struct {
		name     string
		faults   []answer
		wantErr  []error
		wantReqs int
		check    func(t *testing.T, sleeps []time.Duration)
	}{
		{"503 twice, then an answer", []answer{status(503), status(503)}, nil, 3, func(t *testing.T, s []time.Duration) {
			// The backoff doubles, drawn from the upper half of each step.
			if len(s) != 2 || s[0] < 250*time.Millisecond || s[0] > 500*time.Millisecond || s[1] < 500*time.Millisecond || s[1] > time.Second {
				t.Errorf("waits %v", s)
			}
		}},
		{"connection cut, then an answer", []answer{{hangUp: true}}, nil, 2, nil},
		{"5xx to the cap", slices.Repeat([]answer{status(500)}, broker.DefaultMaxAttempts), []error{broker.ErrAttemptsExhausted, broker.ErrUnavailable}, broker.DefaultMaxAttempts, func(t *testing.T, s []time.Duration) {
			if len(s) != broker.DefaultMaxAttempts-1 {
				t.Errorf("%d waits, want %d", len(s), broker.DefaultMaxAttempts-1)
			}
		}},
		{"429 with Retry-After", []answer{{status: 429, retryAfter: "7"}}, nil, 2, func(t *testing.T, s []time.Duration) {
			if !slices.Equal(s, []time.Duration{7 * time.Second}) {
				t.Errorf("waits %v, want the 7s the TAM asked", s)
			}
		}},
		{"429 with a Retry-After beyond the cap", []answer{{status: 429, retryAfter: "86400"}}, nil, 2, func(t *testing.T, s []time.Duration) {
			if !slices.Equal(s, []time.Duration{broker.MaxRetryAfter}) {
				t.Errorf("waits %v, want %v", s, broker.MaxRetryAfter)
			}
		}},
		{"400", []answer{status(400)}, []error{broker.ErrRefused}, 1, nil},
		{"403", []answer{status(403)}, []error{broker.ErrRefused}, 1, nil},
		{"404", []answer{status(404)}, []error{broker.ErrRefused}, 1, nil},
		{"302", []answer{status(302)}, []error{broker.ErrBadResponse}, 1, nil},
		{"200 that is not TEEP", []answer{{status: 200, contentType: "text/html", body: []byte("<p>")}}, []error{broker.ErrBadResponse}, 1, nil},
		{"200 with no message", []answer{{status: 200, contentType: broker.MediaType}}, []error{broker.ErrBadResponse}, 1, nil},
		{"200 too large", []answer{{status: 200, contentType: broker.MediaType, body: make([]byte, broker.MaxMessage+1)}}, []error{broker.ErrTooLarge, broker.ErrBadResponse}, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, map[string]answer{"": over}, nil)
			r.tam.fail(tc.faults...)
			out, err := r.broker(t).Session(context.Background())
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Session = %v, want %v", err, want)
				}
			}
			if tc.wantErr == nil && err != nil {
				t.Errorf("Session = %v", err)
			}
			var se *broker.StatusError
			if tc.faults[0].status >= 300 && !errors.As(err, &se) && tc.wantErr != nil {
				t.Errorf("Session = %v, not a StatusError", err)
			}
			if out.Requests != tc.wantReqs || len(r.tam.seen("/tam")) != tc.wantReqs {
				t.Errorf("%d requests counted, %d seen, want %d", out.Requests, len(r.tam.seen("/tam")), tc.wantReqs)
			}
			if tc.check != nil {
				tc.check(t, r.sleeps.all())
			} else if tc.wantErr != nil && len(r.sleeps.all()) != 0 {
				t.Errorf("a final failure waited %v", r.sleeps.all())
			}
		})
	}
}

// TestSessionJitterSeeded: the jitter comes from the configured source:
// the same seed, the same waits; another seed, other waits.
func TestSessionJitterSeeded(t *testing.T) {
	t.Parallel()
	waits := func(seed uint64) []time.Duration {
		r := newRig(t, map[string]answer{"": over}, nil)
		r.cfg.Rand = rand.New(rand.NewPCG(seed, seed))
		r.tam.fail(answer{status: 503}, answer{status: 503}, answer{status: 503})
		if _, err := r.broker(t).Session(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r.sleeps.all()
	}
	a, b, c := waits(1), waits(1), waits(2)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Fatalf("waits seed 1: %v, again: %v, seed 2: %v", a, b, c)
	}
}

// TestSessionPayloadResumes: the connection is cut half way through the
// payload; the download resumes with a Range request where it stopped,
// and the secure world gets each byte once.
func TestSessionPayloadResumes(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": teep("update"), "success": over},
		map[string]*ipc.RelayTEEPResult{"update": {Set: 43}, "": {Message: []byte("success")}})
	img := payloadOf(2*r.sw.MaxChunk() + 777)
	cut := r.sw.MaxChunk() + 5
	r.agent.script["update"].Payloads = ta(r.tam.addPayload("ta", img), len(img))
	r.tam.cutAt["ta"] = cut
	out, err := r.broker(t).Session(context.Background())
	if err != nil {
		t.Fatalf("Session = %v", err)
	}
	gets := r.tam.seen("/payloads/ta")
	if len(gets) != 2 || gets[0].rng != "" || gets[1].rng != "bytes="+strconv.Itoa(cut)+"-" {
		t.Fatalf("payload requests %+v, want a whole one then a resumption", gets)
	}
	if !bytes.Equal(r.writes(43, 0), img) || out.PayloadBytes != uint64(len(img)) {
		t.Fatalf("the secure world got %d bytes of %d", len(r.writes(43, 0)), len(img))
	}
}

// TestSessionCancelsOnFailure: whatever fails while the Agent waits for
// payloads, the broker cancels the set the Agent opened, never asks it
// to continue, and posts nothing more to the TAM, so that the secure
// world is left idle for the next session.
func TestSessionCancelsOnFailure(t *testing.T) {
	t.Parallel()
	refused := ipc.Errorf(ipc.Rejected, "refused")
	for _, tc := range []struct {
		name     string
		errs     map[ipc.Op]error
		size     int  // the payload's size; 0: two chunks
		missing  bool // the payload is not on the server
		both     bool // the Agent asks for payloads and answers a message at once
		deadline bool // ctx ends mid-payload, with the session deadline as its cause
		wantErr  error
		wantOps  []ipc.Op
	}{
		{name: "payload not found", missing: true, wantErr: fetch.ErrNotFound,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpCancel}},
		{name: "chunk refused", size: 100, errs: map[ipc.Op]error{ipc.OpWriteChunk: refused}, wantErr: ipc.ErrRejected,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpWriteChunk, ipc.OpCancel}},
		{name: "digest refused", errs: map[ipc.Op]error{ipc.OpFinish: refused}, wantErr: ipc.ErrRejected,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpCancel}},
		{name: "cancel fails too", errs: map[ipc.Op]error{ipc.OpFinish: refused, ipc.OpCancel: ipc.Errorf(ipc.Internal, "flash")}, wantErr: payload.ErrCancelFailed,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpWriteChunk, ipc.OpWriteChunk, ipc.OpFinish, ipc.OpCancel}},
		{name: "payloads and a message at once", both: true, wantErr: broker.ErrAgentAnswer,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpCancel}},
		{name: "stopped mid-payload", deadline: true, wantErr: broker.ErrSessionDeadline,
			wantOps: []ipc.Op{ipc.OpRelayTEEP, ipc.OpWriteChunk, ipc.OpCancel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, map[string]answer{"": teep("update"), "success": over},
				map[string]*ipc.RelayTEEPResult{"update": {Set: 43}, "": {Message: []byte("success")}})
			img := payloadOf(cmp.Or(tc.size, r.sw.MaxChunk()+10))
			for op, err := range tc.errs {
				r.agent.Errs[op] = err
			}
			uri := r.tam.srv.URL + "/payloads/missing"
			if !tc.missing {
				uri = r.tam.addPayload("ta", img)
			}
			update := r.agent.script["update"]
			update.Payloads = ta(uri, len(img))
			if tc.both {
				update.Message = []byte("query-response")
			}
			ctx := context.Background()
			if tc.deadline {
				// The deadline passes once the first chunk is written:
				// the session stops before the second.
				r.cfg.SessionTimeout = time.Hour
				var cancel context.CancelCauseFunc
				ctx, cancel = context.WithCancelCause(ctx)
				r.cfg.Progress = nil
				r.cfg.Fetch, _ = fetch.New(fetch.Config{Client: r.tam.srv.Client(), ChunkSize: r.sw.MaxChunk(),
					Progress: func(fetch.Progress) { cancel(broker.ErrSessionDeadline) }})
			}
			_, err := r.broker(t).Session(ctx)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Session = %v, want %v", err, tc.wantErr)
			}
			if got := r.agent.Ops(); !slices.Equal(got, tc.wantOps) {
				t.Fatalf("the secure world saw %v, want %v", got, tc.wantOps)
			}
			calls := r.agent.Calls()
			if set := calls[len(calls)-1].Args.(ipc.CancelArgs).Set; set != 43 {
				t.Errorf("cancelled set %d, want 43", set)
			}
			if got := r.tam.teepBodies(); !slices.Equal(got, []string{""}) {
				t.Errorf("the TAM got %q after the failure", got)
			}
		})
	}
}

// TestSessionBounded: a TAM that never ends a session is cut off after
// MaxMessages messages.
func TestSessionBounded(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": teep("again"), "answer": teep("again")},
		map[string]*ipc.RelayTEEPResult{"again": {Message: []byte("answer")}})
	out, err := r.broker(t).Session(context.Background())
	if !errors.Is(err, broker.ErrTooManyMessages) || out.Received != broker.MaxMessages {
		t.Fatalf("Session = %+v, %v", out, err)
	}
}

// TestRunSession: the one-call form a test drives.
func TestRunSession(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]answer{"": teep("query-request"), "query-response": over},
		map[string]*ipc.RelayTEEPResult{"query-request": {Message: []byte("query-response")}})
	out, err := broker.RunSession(context.Background(), r.tam.srv.URL, r.tam.srv.Client(), r.sw)
	if err != nil || out.Messages() != 2 {
		t.Fatalf("RunSession = %+v, %v", out, err)
	}
	if _, err := broker.RunSession(context.Background(), "ftp://tam", nil, r.sw); !errors.Is(err, broker.ErrConfig) {
		t.Fatalf("RunSession with an ftp URL = %v", err)
	}
	_ = http.StatusOK
}

// TestSessionTimeouts: a request the TAM holds past RequestTimeout is
// abandoned and retried like a cut connection; a session past
// SessionTimeout stops with ErrSessionDeadline, not retried.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("request", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, map[string]answer{"": over}, nil)
		r.tam.fail(answer{stall: true})
		// The timeout cuts the stalled request, and applies as well to
		// the honest one after it: a new connection to the loopback TAM,
		// which a loaded machine (-race, two cores shared) once took over
		// 50 ms to answer, making a third request. It must exceed any
		// honest round trip by far; it is what the stall costs the test.
		r.cfg.RequestTimeout = 2 * time.Second
		out, err := r.broker(t).Session(context.Background())
		if err != nil || out.Requests != 2 || len(r.sleeps.all()) != 1 {
			t.Fatalf("Session = %+v, %v; waits %v", out, err, r.sleeps.all())
		}
	})
	t.Run("session", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, map[string]answer{"": over}, nil)
		r.cfg.SessionTimeout = time.Nanosecond
		out, err := r.broker(t).Session(context.Background())
		if !errors.Is(err, broker.ErrSessionDeadline) || !errors.Is(err, context.DeadlineExceeded) || len(r.sleeps.all()) != 0 {
			t.Fatalf("Session = %+v, %v; waits %v", out, err, r.sleeps.all())
		}
	})
}
