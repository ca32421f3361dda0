package ipc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// call is one handler call as the fake saw it, its arguments in the form
// of the matching …Args type.
type call struct {
	Op   Op
	Args any
}

// fakeHandler is a secure world that records every call and answers with
// canned results, or with errs[op].
type fakeHandler struct {
	components []ComponentInfo
	start      *StartResult
	teepReply  *RelayTEEPResult
	evidence   []byte
	errs       map[Op]error
	// block, if set, is received from before an Accept returns, and
	// entered is closed (once) when Accept is entered.
	block   chan struct{}
	entered chan struct{}

	mu    sync.Mutex
	calls []call
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		components: []ComponentInfo{
			{ID: [][]byte{[]byte("secure")}, State: StateReady, SequenceNumber: 7, Digest: []byte{0x82, 0x2f, 0x41, 0xaa}, Size: 4096},
			{ID: [][]byte{[]byte("normal"), {0}}, State: StateTrial, SequenceNumber: 3, Digest: []byte{0x82, 0x2f, 0x41, 0xbb}, Size: 8192},
		},
		start: &StartResult{Set: 42, Payloads: []PayloadRequest{
			{Index: 0, Component: [][]byte{[]byte("normal"), {0}}, URI: "https://fw.example/normal.bin", Size: 8192},
		}},
		teepReply: &RelayTEEPResult{Set: 43, Payloads: []PayloadRequest{
			{Index: 1, Component: [][]byte{[]byte("TA"), []byte("acme")}, URI: "https://tam.example/payloads/ab", Size: 512},
		}, Reboot: true, Message: []byte("teep reply")},
		evidence: []byte("eat"),
		errs:     map[Op]error{},
	}
}

func (f *fakeHandler) record(op Op, args any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{op, args})
	return f.errs[op]
}

func (f *fakeHandler) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeHandler) Query(ctx context.Context) ([]ComponentInfo, error) {
	if err := f.record(OpQuery, QueryArgs{}); err != nil {
		return nil, err
	}
	return f.components, nil
}

func (f *fakeHandler) StartUpdate(ctx context.Context, envelope []byte) (*StartResult, error) {
	if err := f.record(OpStartUpdate, StartUpdateArgs{Envelope: envelope}); err != nil {
		return nil, err
	}
	return f.start, nil
}

func (f *fakeHandler) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	// data is the session's buffer: keep a copy, as Handler says.
	return f.record(OpWriteChunk, WriteChunkArgs{Set: set, Payload: payload, Offset: offset, Data: bytes.Clone(data)})
}

func (f *fakeHandler) Finish(ctx context.Context, set uint64, payload uint32) error {
	return f.record(OpFinish, FinishArgs{Set: set, Payload: payload})
}

func (f *fakeHandler) Install(ctx context.Context, set uint64) error {
	return f.record(OpInstall, InstallArgs{Set: set})
}

func (f *fakeHandler) Cancel(ctx context.Context, set uint64) error {
	return f.record(OpCancel, CancelArgs{Set: set})
}

func (f *fakeHandler) Clean(ctx context.Context) error {
	return f.record(OpClean, CleanArgs{})
}

func (f *fakeHandler) DeviceStatus(ctx context.Context) (*DeviceStatusResult, error) {
	if err := f.record(OpDeviceStatus, DeviceStatusArgs{}); err != nil {
		return nil, err
	}
	return &DeviceStatusResult{State: "idle"}, nil
}

func (f *fakeHandler) Accept(ctx context.Context) error {
	if f.block != nil {
		close(f.entered)
		<-f.block
	}
	return f.record(OpAccept, AcceptArgs{})
}

func (f *fakeHandler) Reject(ctx context.Context) error {
	return f.record(OpReject, RejectArgs{})
}

func (f *fakeHandler) Reboot(ctx context.Context) error {
	return f.record(OpReboot, RebootArgs{})
}

func (f *fakeHandler) RelayTEEP(ctx context.Context, msg []byte) (*RelayTEEPResult, error) {
	if err := f.record(OpRelayTEEP, RelayTEEPArgs{Message: msg}); err != nil {
		return nil, err
	}
	return f.teepReply, nil
}

func (f *fakeHandler) Evidence(ctx context.Context, nonce []byte) ([]byte, error) {
	if err := f.record(OpGetEvidence, GetEvidenceArgs{Nonce: nonce}); err != nil {
		return nil, err
	}
	return f.evidence, nil
}

// sharedViews are the two worlds' views of one shared region.
type sharedViews struct{ normal, secure *Shared }

// session is a client and a server joined by Pipe; the server's result
// arrives on done.
type testSession struct {
	client *Client
	secure net.Conn
	done   chan error

	once   sync.Once
	result error
}

// wait returns Serve's result; it may be called more than once.
func (s *testSession) wait() error {
	s.once.Do(func() { s.result = <-s.done })
	return s.result
}

// startSession runs Serve with h on one end of a pipe and returns a
// client on the other. Cleanup closes both and waits for Serve.
func startSession(t *testing.T, h Handler) *testSession {
	t.Helper()
	return startSessionLimits(t, h, sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes})
}

func startSessionLimits(t *testing.T, h Handler, lim sessionLimits) *testSession {
	t.Helper()
	normal, secure := net.Pipe()
	return startSessionOn(t, h, lim, normal, secure, nil, nil)
}

// startSessionOn is startSessionLimits over the given ends of a connection.
// With shared, both ends use that region, as two views of it when
// normalView is set, and the client records what it puts there in tap.
func startSessionOn(t *testing.T, h Handler, lim sessionLimits, normal, secure net.Conn, shared *sharedViews, tap io.Writer) *testSession {
	t.Helper()
	done := make(chan error, 1)
	var serverView *Shared
	if shared != nil {
		serverView = shared.secure
	}
	go func() {
		done <- serve(context.Background(), secure, h, serverView, lim)
		secure.Close()
	}()
	var c *Client
	var err error
	if shared != nil {
		c, err = NewSharedClient(normal, shared.normal, tap)
	} else {
		c, err = NewClient(normal)
	}
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	s := &testSession{client: c, secure: secure, done: done}
	t.Cleanup(func() {
		c.Close()
		secure.Close()
		s.wait()
	})
	return s
}

// rawPeer is a hand-driven normal world: it writes frames of its choosing
// to a running Serve.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	done chan error
}

func startRaw(t *testing.T, h Handler, lim sessionLimits) *rawPeer {
	return startRawShared(t, h, lim, nil)
}

// startRawShared is startRaw with a shared region on the server's side.
func startRawShared(t *testing.T, h Handler, lim sessionLimits, shared *Shared) *rawPeer {
	t.Helper()
	normal, secure := net.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serve(context.Background(), secure, h, shared, lim)
		secure.Close()
	}()
	t.Cleanup(func() { normal.Close() })
	return &rawPeer{t: t, conn: normal, done: done}
}

func (p *rawPeer) send(body []byte) {
	p.t.Helper()
	if err := WriteFrame(p.conn, body); err != nil {
		p.t.Fatalf("write frame: %v", err)
	}
}

func (p *rawPeer) sendRaw(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("write: %v", err)
	}
}

func (p *rawPeer) recv() []byte {
	p.t.Helper()
	b, err := ReadFrame(p.conn)
	if err != nil {
		p.t.Fatalf("read frame: %v", err)
	}
	return b
}

func (p *rawPeer) hello() {
	p.t.Helper()
	p.send(mustEncode(p.t, EncodeHello, &Hello{Version: ProtocolVersion, Role: RoleNormal}))
	if _, err := DecodeHelloReply(p.recv()); err != nil {
		p.t.Fatalf("hello reply: %v", err)
	}
}

// wait returns Serve's result.
func (p *rawPeer) wait() error { return <-p.done }

func mustEncode[T any](t testing.TB, enc func(*T) ([]byte, error), v *T) []byte {
	t.Helper()
	b, err := enc(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return b
}

// wantErr checks that err matches every target with errors.Is.
func wantErr(t *testing.T, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("error %v: not %v", err, target)
		}
	}
}
