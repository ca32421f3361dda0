package ipc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestOpsEndToEnd(t *testing.T) {
	ctx := context.Background()
	h := newFakeHandler()
	c := startSession(t, h).client
	for _, tc := range []struct {
		name     string
		do       func() (any, error)
		wantCall call
		want     any
	}{
		{"Query", func() (any, error) { return c.Query(ctx) },
			call{OpQuery, QueryArgs{}}, h.components},
		{"StartUpdate", func() (any, error) { return c.StartUpdate(ctx, []byte("envelope")) },
			call{OpStartUpdate, StartUpdateArgs{Envelope: []byte("envelope")}}, h.start},
		{"WriteChunk", func() (any, error) { return nil, c.WriteChunk(ctx, 42, 0, 4096, []byte("chunk")) },
			call{OpWriteChunk, WriteChunkArgs{Set: 42, Payload: 0, Offset: 4096, Data: []byte("chunk")}}, nil},
		{"Finish", func() (any, error) { return nil, c.Finish(ctx, 42, 0) },
			call{OpFinish, FinishArgs{Set: 42, Payload: 0}}, nil},
		{"Install", func() (any, error) { return nil, c.Install(ctx, 42) },
			call{OpInstall, InstallArgs{Set: 42}}, nil},
		{"Accept", func() (any, error) { return nil, c.Accept(ctx) },
			call{OpAccept, AcceptArgs{}}, nil},
		{"Reject", func() (any, error) { return nil, c.Reject(ctx) },
			call{OpReject, RejectArgs{}}, nil},
		{"RelayTEEP", func() (any, error) { return c.RelayTEEP(ctx, []byte("query request")) },
			call{OpRelayTEEP, RelayTEEPArgs{Message: []byte("query request")}}, h.teepReply},
		{"RelayTEEP continue", func() (any, error) { return c.RelayTEEP(ctx, nil) },
			call{OpRelayTEEP, RelayTEEPArgs{Message: []byte{}}}, h.teepReply},
		{"Evidence", func() (any, error) { return c.Evidence(ctx, []byte("noncenon")) },
			call{OpGetEvidence, GetEvidenceArgs{Nonce: []byte("noncenon")}}, h.evidence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.Calls())
			got, err := tc.do()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("result %+v, want %+v", got, tc.want)
			}
			calls := h.Calls()[before:]
			if len(calls) != 1 || !reflect.DeepEqual(calls[0], tc.wantCall) {
				t.Errorf("handler saw %+v, want %+v", calls, tc.wantCall)
			}
		})
	}
}

func TestHandlerErrorsCarried(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		err     error
		want    error
		wantMsg string
	}{
		{"rejected", Errorf(Rejected, "signature"), ErrRejected, "signature"},
		{"busy", Errorf(Busy, "set 1 open"), ErrBusy, "set 1 open"},
		{"bad state", fmt.Errorf("install set 42: %w", ErrBadState), ErrBadState, "install set 42"},
		{"out of range", Errorf(OutOfRange, "offset 9000 past size 8192"), ErrOutOfRange, "offset 9000 past size 8192"},
		{"not found", Errorf(NotFound, "set 7"), ErrNotFound, "set 7"},
		{"unsupported", Errorf(Unsupported, "no TEEP agent"), ErrUnsupported, "no TEEP agent"},
		{"internal", Errorf(Internal, "flash"), ErrInternal, "flash"},
		{"plain error", errors.New("disk on fire"), ErrInternal, "disk on fire"},
		{"protocol error from handler", ErrMalformed, ErrInternal, "ipc: malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHandler()
			for op := OpQuery; op <= OpGetEvidence; op++ {
				h.errs[op] = tc.err
			}
			c := startSession(t, h).client
			calls := []func() error{
				func() error { _, err := c.Query(ctx); return err },
				func() error { _, err := c.StartUpdate(ctx, []byte{1}); return err },
				func() error { return c.WriteChunk(ctx, 1, 0, 0, []byte{1}) },
				func() error { return c.Finish(ctx, 1, 0) },
				func() error { return c.Install(ctx, 1) },
				func() error { return c.Accept(ctx) },
				func() error { return c.Reject(ctx) },
				func() error { _, err := c.RelayTEEP(ctx, []byte{1}); return err },
				func() error { _, err := c.Evidence(ctx, []byte{1}); return err },
			}
			for i, call := range calls {
				err := call()
				wantErr(t, err, ErrSecure, tc.want)
				var e *Error
				if errors.As(err, &e) && e.Message != tc.wantMsg {
					t.Errorf("call %d: message %q, want %q", i, e.Message, tc.wantMsg)
				}
			}
			// A refusal leaves the session usable.
			h.errs = map[Op]error{}
			if _, err := c.Query(ctx); err != nil {
				t.Fatalf("after refusals: %v", err)
			}
		})
	}
}

// badResultHandler returns results that cannot be sent.
type badResultHandler struct{ *fakeHandler }

func (badResultHandler) Query(context.Context) ([]ComponentInfo, error) {
	return []ComponentInfo{{State: "BOGUS"}}, nil
}

func (badResultHandler) StartUpdate(context.Context, []byte) (*StartResult, error) {
	return nil, nil
}

// RelayTEEP returns nothing for a message, and too many payloads for a
// continue.
func (badResultHandler) RelayTEEP(_ context.Context, msg []byte) (*RelayTEEPResult, error) {
	if len(msg) == 0 {
		return &RelayTEEPResult{Payloads: make([]PayloadRequest, MaxPayloads+1)}, nil
	}
	return nil, nil
}

func (badResultHandler) Evidence(context.Context, []byte) ([]byte, error) {
	return make([]byte, MaxEvidence+1), nil
}

func TestHandlerBadResultIsInternal(t *testing.T) {
	ctx := context.Background()
	c := startSession(t, badResultHandler{newFakeHandler()}).client
	_, err := c.Query(ctx)
	wantErr(t, err, ErrSecure, ErrInternal)
	_, err = c.StartUpdate(ctx, []byte{1})
	wantErr(t, err, ErrSecure, ErrInternal)
	_, err = c.Evidence(ctx, []byte{1})
	wantErr(t, err, ErrSecure, ErrInternal)
	_, err = c.RelayTEEP(ctx, []byte{1})
	wantErr(t, err, ErrSecure, ErrInternal)
	_, err = c.RelayTEEP(ctx, nil)
	wantErr(t, err, ErrSecure, ErrInternal)
	if err := c.Accept(ctx); err != nil {
		t.Fatalf("session unusable after bad results: %v", err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	h := newFakeHandler()
	c := startSession(t, h).client
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				data := []byte(fmt.Sprintf("w%d-%d", w, i))
				if err := c.WriteChunk(ctx, uint64(w), uint32(i), uint64(i), data); err != nil {
					errs <- err
				}
				if _, err := c.Query(ctx); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every chunk arrived once, with its own arguments.
	seen := map[string]bool{}
	for _, cl := range h.Calls() {
		if a, ok := cl.Args.(WriteChunkArgs); ok {
			want := fmt.Sprintf("w%d-%d", a.Set, a.Payload)
			if string(a.Data) != want || a.Offset != uint64(a.Payload) || seen[want] {
				t.Errorf("chunk %+v (seen before: %v)", a, seen[want])
			}
			seen[want] = true
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct chunks, want %d", len(seen), workers*each)
	}
}

func TestClientChunkOverBound(t *testing.T) {
	ctx := context.Background()
	h := newFakeHandler()
	c := startSession(t, h).client
	if c.MaxChunk() != MaxChunk {
		t.Fatalf("MaxChunk %d", c.MaxChunk())
	}
	err := c.WriteChunk(ctx, 1, 0, 0, make([]byte, c.MaxChunk()+1))
	wantErr(t, err, ErrProtocol, ErrLimitExceeded)
	if err := c.WriteChunk(ctx, 1, 0, 0, make([]byte, c.MaxChunk())); err != nil {
		t.Fatalf("full chunk after a refused one: %v", err)
	}
	if n := len(h.Calls()); n != 1 {
		t.Fatalf("handler saw %d calls, want 1", n)
	}
}

// TestServeRefusesBadRequests drives Serve frame by frame: a request that
// is framed but wrong is answered with a protocol error and the session
// goes on.
func TestServeRefusesBadRequests(t *testing.T) {
	h := newFakeHandler()
	p := startRaw(t, h, sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes})
	p.hello()
	req := func(version, id uint64, op Op, args any) []byte {
		return wire(t, requestWire{Version: version, ID: id, Op: op, Args: wire(t, args)})
	}
	valid := req(ProtocolVersion, 5, OpQuery, QueryArgs{})
	for _, tc := range []struct {
		name   string
		body   []byte
		wantID uint64
		want   Code
	}{
		{"unknown op", req(ProtocolVersion, 7, 99, QueryArgs{}), 7, UnknownOp},
		{"wrong version", req(ProtocolVersion+1, 8, OpQuery, QueryArgs{}), 8, VersionMismatch},
		{"ID 0", req(ProtocolVersion, 0, OpQuery, QueryArgs{}), 0, Malformed},
		{"bad args", req(ProtocolVersion, 9, OpFinish, QueryArgs{}), 9, Malformed},
		{"args over bound", req(ProtocolVersion, 10, OpGetEvidence, GetEvidenceArgs{Nonce: make([]byte, MaxNonce+1)}), 10, LimitExceeded},
		{"not CBOR", []byte{0xff, 0xff}, 0, Malformed},
		{"trailing bytes", cat(valid, []byte{0}), 0, Malformed},
		{"duplicate map keys", []byte{0xa2, 0x01, 0x01, 0x01, 0x02}, 0, Malformed},
		{"long-form head", []byte{0x84, ProtocolVersion, 0x18, 0x05, 0x01, 0x80}, 5, Malformed},
		{"array for bytes", req(ProtocolVersion, 11, OpRelayTEEP, []any{[]int{1, 2}}), 11, Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.send(tc.body)
			resp, err := DecodeResponse(p.recv(), OpQuery)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ID != tc.wantID || resp.Status != tc.want {
				t.Errorf("response ID %d status %v, want %d %v", resp.ID, resp.Status, tc.wantID, tc.want)
			}
			wantErr(t, resp.Err(), ErrProtocol)
		})
	}
	// The session went on, and the handler saw only the valid request.
	p.send(valid)
	resp, err := DecodeResponse(p.recv(), OpQuery)
	if err != nil || resp.ID != 5 || resp.Status != OK {
		t.Fatalf("valid request after bad ones: %+v, %v", resp, err)
	}
	if calls := h.Calls(); len(calls) != 1 {
		t.Errorf("handler saw %+v", calls)
	}
}

// TestServeEndsOnBadFrame: after a bad length the stream cannot be
// trusted; Serve answers once and ends.
func TestServeEndsOnBadFrame(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header []byte
		want   error
	}{
		{"zero length", []byte{0, 0, 0, 0}, ErrMalformed},
		{"over MaxFrame", []byte{0, 0x10, 0x10, 0x01}, ErrLimitExceeded},
		{"4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startRaw(t, newFakeHandler(), sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes})
			p.hello()
			p.sendRaw(tc.header)
			resp, err := DecodeResponse(p.recv(), OpQuery)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, resp.Err(), ErrProtocol, tc.want)
			wantErr(t, p.wait(), ErrProtocol, tc.want)
		})
	}
}

func TestServeHandshake(t *testing.T) {
	lim := sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes}
	t.Run("version mismatch", func(t *testing.T) {
		p := startRaw(t, newFakeHandler(), lim)
		p.send(mustEncode(t, EncodeHello, &Hello{Version: ProtocolVersion + 1, Role: RoleNormal}))
		reply, err := DecodeHelloReply(p.recv())
		if err != nil {
			t.Fatal(err)
		}
		if reply.Version != ProtocolVersion {
			t.Errorf("reply version %d", reply.Version)
		}
		wantErr(t, p.wait(), ErrProtocol, ErrVersionMismatch)
	})
	t.Run("role secure", func(t *testing.T) {
		p := startRaw(t, newFakeHandler(), lim)
		p.send(mustEncode(t, EncodeHello, &Hello{Version: ProtocolVersion, Role: RoleSecure}))
		wantErr(t, p.wait(), ErrProtocol, ErrMalformed)
	})
	t.Run("request before hello", func(t *testing.T) {
		p := startRaw(t, newFakeHandler(), lim)
		p.send(mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: QueryArgs{}}))
		wantErr(t, p.wait(), ErrProtocol, ErrMalformed)
	})
	t.Run("peer hangs up", func(t *testing.T) {
		p := startRaw(t, newFakeHandler(), lim)
		p.conn.Close()
		if err := p.wait(); err != nil {
			t.Fatalf("Serve after a clean hang-up: %v", err)
		}
	})
	t.Run("peer hangs up mid-frame", func(t *testing.T) {
		p := startRaw(t, newFakeHandler(), lim)
		p.hello()
		p.sendRaw([]byte{0, 0, 0, 9, 0x84})
		p.conn.Close()
		wantErr(t, p.wait(), ErrTransport, io.ErrUnexpectedEOF)
	})
}

// fakeSecure answers a client's hello with reply, then each request with
// respond(request).
func fakeSecure(t *testing.T, reply *HelloReply, respond func(*Request) *Response) (*Client, error) {
	t.Helper()
	normal, secure := net.Pipe()
	t.Cleanup(func() { secure.Close() })
	go func() {
		if _, err := ReadFrame(secure); err != nil {
			return
		}
		b, _ := EncodeHelloReply(reply)
		if WriteFrame(secure, b) != nil {
			return
		}
		for {
			body, err := ReadFrame(secure)
			if err != nil {
				return
			}
			req, err := DecodeRequest(body)
			if err != nil {
				return
			}
			b, _ := EncodeResponse(respond(req))
			if WriteFrame(secure, b) != nil {
				return
			}
		}
	}()
	c, err := NewClient(normal)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

var goodReply = &HelloReply{Version: ProtocolVersion, MaxFrame: MaxFrame, MaxChunk: MaxChunk}

func TestClientHandshakeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply *HelloReply
		want  error
	}{
		{"next version", &HelloReply{Version: ProtocolVersion + 1, MaxFrame: MaxFrame, MaxChunk: MaxChunk}, ErrVersionMismatch},
		{"version 0", &HelloReply{Version: 0, MaxFrame: MaxFrame, MaxChunk: MaxChunk}, ErrVersionMismatch},
		{"zero chunk", &HelloReply{Version: ProtocolVersion, MaxFrame: MaxFrame}, ErrMalformed},
		{"chunk over frame", &HelloReply{Version: ProtocolVersion, MaxFrame: 4096, MaxChunk: 8192}, ErrMalformed},
		{"tiny frame", &HelloReply{Version: ProtocolVersion, MaxFrame: 16, MaxChunk: 8}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fakeSecure(t, tc.reply, nil)
			wantErr(t, err, ErrProtocol, tc.want)
		})
	}
}

func TestClientSmallerChunkOffer(t *testing.T) {
	c, err := fakeSecure(t, &HelloReply{Version: ProtocolVersion, MaxFrame: 64 << 10, MaxChunk: 32 << 10}, func(r *Request) *Response {
		return &Response{Version: ProtocolVersion, ID: r.ID}
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxChunk() != 32<<10 {
		t.Fatalf("MaxChunk %d", c.MaxChunk())
	}
	wantErr(t, c.WriteChunk(context.Background(), 1, 0, 0, make([]byte, 32<<10+1)), ErrLimitExceeded)
	if err := c.WriteChunk(context.Background(), 1, 0, 0, make([]byte, 32<<10)); err != nil {
		t.Fatal(err)
	}
}

func TestClientChecksResponses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		respond func(*Request) *Response
		want    []error
		broken  bool // later calls fail too
	}{
		{"ID mismatch", func(r *Request) *Response { return &Response{Version: ProtocolVersion, ID: r.ID + 1} },
			[]error{ErrProtocol, ErrIDMismatch}, true},
		{"ID 0 with success", func(r *Request) *Response { return &Response{Version: ProtocolVersion, ID: 0} },
			[]error{ErrProtocol, ErrIDMismatch}, true},
		{"ID 0 with protocol error", func(r *Request) *Response {
			return &Response{Version: ProtocolVersion, ID: 0, Status: Malformed, Message: "decode request"}
		}, []error{ErrProtocol, ErrMalformed}, false},
		{"result of another op", func(r *Request) *Response {
			return &Response{Version: ProtocolVersion, ID: r.ID, Result: EvidenceResult{Evidence: []byte{1}}}
		}, []error{ErrProtocol, ErrMalformed}, true},
		{"secure refusal", func(r *Request) *Response { return &Response{Version: ProtocolVersion, ID: r.ID, Status: Busy} },
			[]error{ErrSecure, ErrBusy}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := fakeSecure(t, goodReply, tc.respond)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, c.Accept(ctx), tc.want...)
			err = c.Accept(ctx)
			if tc.broken {
				wantErr(t, err, append([]error{ErrTransport}, tc.want...)...)
			} else if errors.Is(err, ErrTransport) {
				t.Errorf("client broken after a non-fatal error: %v", err)
			}
		})
	}
}

func TestClientCancel(t *testing.T) {
	h := newFakeHandler()
	h.block = make(chan struct{})
	h.entered = make(chan struct{})
	s := startSession(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.client.Accept(ctx) }()
	<-h.entered
	cancel()
	err := <-done
	wantErr(t, err, ErrTransport, context.Canceled)
	close(h.block)
	// The abandoned response would answer the next request: the client
	// refuses to go on.
	_, err = s.client.Query(context.Background())
	wantErr(t, err, ErrTransport, context.Canceled)
	// The server sees the hang-up and ends.
	waited := make(chan struct{})
	go func() { s.wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not end after the client hung up")
	}
}

func TestClientCanceledBeforeCall(t *testing.T) {
	h := newFakeHandler()
	c := startSession(t, h).client
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Query on a done context: %v", err)
	}
	if _, err := c.Query(context.Background()); err != nil {
		t.Fatalf("session harmed by a call that never started: %v", err)
	}
	if len(h.Calls()) != 1 {
		t.Fatalf("handler saw %+v", h.Calls())
	}
}

func TestClientClose(t *testing.T) {
	s := startSession(t, newFakeHandler())
	if err := s.client.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := s.client.Query(context.Background())
	wantErr(t, err, ErrTransport)
	if err := s.wait(); err != nil {
		t.Fatalf("Serve after the client closed: %v", err)
	}
}

func TestServeCancel(t *testing.T) {
	normal, secure := net.Pipe()
	t.Cleanup(func() { normal.Close(); secure.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, secure, newFakeHandler()) }()
	c, err := NewClient(normal)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not end on cancel")
	}
	c.Close()
}

func TestSessionLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("requests", func(t *testing.T) {
		s := startSessionLimits(t, newFakeHandler(), sessionLimits{maxRequests: 3, maxBytes: MaxSessionBytes})
		for i := range 3 {
			if _, err := s.client.Query(ctx); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		_, err := s.client.Query(ctx)
		wantErr(t, err, ErrProtocol, ErrLimitExceeded)
		wantErr(t, s.wait(), ErrProtocol, ErrLimitExceeded)
	})
	t.Run("bytes", func(t *testing.T) {
		hello := mustEncode(t, EncodeHello, &Hello{Version: ProtocolVersion, Role: RoleNormal})
		query := mustEncode(t, EncodeRequest, &Request{Version: ProtocolVersion, ID: 1, Op: OpQuery, Args: QueryArgs{}})
		// Room for the hello and two queries, not three.
		budget := uint64(frameHeader+len(hello)) + 2*uint64(frameHeader+len(query))
		s := startSessionLimits(t, newFakeHandler(), sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: budget})
		for i := range 2 {
			if _, err := s.client.Query(ctx); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		_, err := s.client.Query(ctx)
		wantErr(t, err, ErrProtocol, ErrLimitExceeded)
		wantErr(t, s.wait(), ErrProtocol, ErrLimitExceeded)
	})
}

// rwConn is a one-way conversation: Serve reads in and writes to out.
type rwConn struct {
	io.Reader
	io.Writer
}

// TestServeSurvivesGarbage feeds Serve random streams, some behind a
// valid hello, some with valid frame headers around random bodies. Serve
// must return (the input is finite), never panic, and return only nil or
// an *Error.
func TestServeSurvivesGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hello := mustEncode(t, EncodeHello, &Hello{Version: ProtocolVersion, Role: RoleNormal})
	var helloFrame bytes.Buffer
	WriteFrame(&helloFrame, hello)
	for i := range 2000 {
		var in bytes.Buffer
		if i%3 != 0 {
			in.Write(helloFrame.Bytes())
		}
		for range rng.IntN(4) + 1 {
			body := make([]byte, rng.IntN(300))
			for j := range body {
				body[j] = byte(rng.Uint32())
			}
			if i%2 == 0 && len(body) > 0 {
				WriteFrame(&in, body)
			} else {
				in.Write(body)
			}
		}
		var out bytes.Buffer
		err := Serve(context.Background(), rwConn{&in, &out}, newFakeHandler())
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("stream %d: Serve returned %T %v", i, err, err)
		}
		// Whatever Serve wrote is well-framed and decodes.
		for out.Len() > 0 {
			b, err := ReadFrame(&out)
			if err != nil {
				t.Fatalf("stream %d: Serve wrote a bad frame: %v", i, err)
			}
			if _, err := DecodeHelloReply(b); err == nil {
				continue
			}
			if _, err := DecodeResponse(b, OpQuery); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("stream %d: Serve wrote %x: %v", i, b, err)
			}
		}
	}
}

// TestRebootEndsSession: an agreed reboot is answered, then Serve returns
// ErrReboot; a refused one leaves the session going.
func TestRebootEndsSession(t *testing.T) {
	normal, secure := net.Pipe()
	h := newFakeHandler()
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), secure, h) }()
	c, err := NewClient(normal)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reboot(context.Background()); err != nil {
		t.Fatalf("Reboot: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrReboot) {
		t.Fatalf("Serve = %v, want ErrReboot", err)
	}
	c.Close()
}
