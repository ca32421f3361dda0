package ipc

import (
	"context"
	"errors"
	"io"
	"time"
)

// Handler is the secure world's implementation of the operations. Serve
// calls it only with requests that decoded strictly and are within the
// bounds of limits.go; everything else about them (signatures, digests,
// order, ranges) is the handler's to check, since the normal world may send
// anything. Byte slices passed in are the handler's to keep, but for the
// data of WriteChunk: it is in one of the session's frame buffers, valid
// until WriteChunk returns, so that a stream of chunks is neither
// allocated nor copied per chunk.
//
// An error that is, or wraps, an *Error with a secure code (Errorf,
// ErrBadState, ...) is sent with that code; any other error is sent as
// Internal. Either way its text crosses to the normal world and must not
// hold a secret.
type Handler interface {
	Query(ctx context.Context) ([]ComponentInfo, error)
	StartUpdate(ctx context.Context, envelope []byte) (*StartResult, error)
	WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error
	Finish(ctx context.Context, set uint64, payload uint32) error
	Install(ctx context.Context, set uint64) error
	Accept(ctx context.Context) error
	Reject(ctx context.Context) error
	// RelayTEEP hands a TEEP message to the Agent (an empty one:
	// continue the install set it asked payloads for).
	RelayTEEP(ctx context.Context, msg []byte) (*RelayTEEPResult, error)
	Evidence(ctx context.Context, nonce []byte) ([]byte, error)
	// Cancel abandons update set set (0: whichever is in progress)
	// before it is installed; with none in progress it does nothing.
	Cancel(ctx context.Context, set uint64) error
	// Clean discards a failed update set.
	Clean(ctx context.Context) error
	// DeviceStatus reports the secure world's whole status.
	DeviceStatus(ctx context.Context) (*DeviceStatusResult, error)
	// Reboot agrees to reset the device; after its answer is sent Serve
	// returns ErrReboot, and the secure world resets.
	Reboot(ctx context.Context) error
}

// ChunkBuffers is implemented by a Handler that takes the data of shared
// chunks into buffers of its own: ServeShared copies a WriteShared chunk
// out of the region straight into the buffer ChunkBuffer returns (at
// least n bytes, for the next WriteChunk of that payload), and passes
// WriteChunk that buffer, which the handler may then keep. That spares
// one copy of every byte. A nil buffer means the session's buffer, as for
// any WriteChunk.
type ChunkBuffers interface {
	ChunkBuffer(set uint64, payload uint32, n int) []byte
}

// ErrReboot is what Serve returns after it answered a Reboot request that
// the handler agreed to: the caller resets the device.
var ErrReboot = errors.New("ipc: reset requested")

// Serve runs one session of the secure world on conn: it reads a Hello,
// answers with a HelloReply, then reads requests, calls h for each, and
// writes a response for each, one at a time, from the calling goroutine.
// Only the next frame is read ahead, by a goroutine of its own, while h
// handles a WriteChunk: a client that sends chunks ahead of their answers
// (Client.WriteChunks) has the next one received meanwhile.
//
// Nothing from the peer is trusted. A request that is framed correctly but
// does not decode (bad CBOR, wrong version, unknown op, arguments out of
// bounds) is answered with a protocol-error response and the session goes
// on. A framing error (length 0 or over MaxFrame), a bad Hello, a version
// mismatch in the Hello, and a request past MaxRequestsPerSession or
// MaxSessionBytes end the session with a Protocol *Error, after a
// protocol-error response except for a bad Hello (a HelloReply has no
// status). The request that crosses MaxSessionBytes is read whole (at most
// MaxFrame) before it is refused, so that a peer in the middle of writing
// it is not left blocked.
//
// Serve returns nil when the peer closes the stream between frames, the
// *Error that ended the session, or ctx.Err() once ctx is done. On
// cancellation Serve sets a past deadline on conn if it has SetDeadline
// (as a net.Conn does), else closes it if it is an io.Closer, to unblock a
// read in progress; otherwise it notices cancellation between requests.
// Serve does not close conn otherwise.
func Serve(ctx context.Context, conn io.ReadWriter, h Handler) error {
	return ServeShared(ctx, conn, h, nil)
}

// ServeShared is Serve with a shared region, from which it takes the data
// of WriteShared requests (nil: there is none, and they are refused). It
// copies each chunk out of the region once, bounds checked, into a buffer
// of the session, and hands the handler that copy: the normal world may
// rewrite the region at any moment, and the handler must see the bytes
// that it checks and the bytes that it uses be the same.
func ServeShared(ctx context.Context, conn io.ReadWriter, h Handler, shared *Shared) error {
	return serve(ctx, conn, h, shared, sessionLimits{maxRequests: MaxRequestsPerSession, maxBytes: MaxSessionBytes})
}

type sessionLimits struct {
	maxRequests uint64
	maxBytes    uint64
}

func serve(ctx context.Context, conn io.ReadWriter, h Handler, shared *Shared, lim sessionLimits) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { interrupt(conn) })
	defer stop()
	s := &session{conn: conn, h: h, lim: lim, shared: shared}
	err := s.run(ctx)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// interrupt unblocks a read or write in progress on conn.
func interrupt(conn io.ReadWriter) {
	if d, ok := conn.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Unix(1, 0)) == nil {
		return
	}
	if c, ok := conn.(io.Closer); ok {
		c.Close()
	}
}

type session struct {
	conn     io.ReadWriter
	h        Handler
	lim      sessionLimits
	requests uint64 // requests read
	read     uint64 // bytes read, frame headers included
	// Frame bodies are read into two buffers that take turns: the next
	// frame is read into one while a chunk in the other is handled.
	bufs  [2][]byte
	turn  int
	ahead chan frame // the next frame, read during a WriteChunk; nil when none
	// shared is the session's shared region, if any, and sharedBuf the
	// buffer each WriteShared chunk is copied into.
	shared    *Shared
	sharedBuf []byte
}

// frame is the outcome of reading one frame.
type frame struct {
	body []byte
	err  error
}

// errPeerClosed ends a session quietly: the peer closed between frames.
var errPeerClosed = errors.New("peer closed")

func (s *session) run(ctx context.Context) error {
	defer func() {
		if s.ahead != nil {
			<-s.ahead // ends with the stream, or as serve interrupts it
		}
	}()
	err := s.handshake()
	for err == nil {
		if err = ctx.Err(); err != nil {
			break
		}
		err = s.serveOne(ctx)
	}
	if errors.Is(err, errPeerClosed) {
		return nil
	}
	return err
}

// readFrame returns the next frame, read ahead or read now, and counts it
// against the session's byte bound. A stream that ends cleanly before the
// frame is errPeerClosed. The frame that crosses the bound is still read,
// since the peer is writing it and may not read the refusal first; it is
// refused by the caller.
func (s *session) readFrame() ([]byte, error) {
	var f frame
	if s.ahead != nil {
		f = <-s.ahead
		s.ahead = nil
	} else {
		f = s.read1()
	}
	if f.err != nil {
		if errors.Is(f.err, io.EOF) {
			return nil, errPeerClosed
		}
		return nil, f.err
	}
	s.read += frameHeader + uint64(len(f.body))
	return f.body, nil
}

// readAhead starts reading the next frame into the other buffer, while
// the caller handles a chunk in this one: for a peer that sends the next
// chunk before the answer to the last, receiving it overlaps handling.
func (s *session) readAhead() {
	ahead := make(chan frame, 1)
	s.ahead = ahead
	go func() { ahead <- s.read1() }()
}

// read1 reads one frame into the buffer whose turn it is, and passes the
// turn on.
func (s *session) read1() frame {
	n, err := readHeader(s.conn, MaxFrame)
	if err != nil {
		return frame{err: err}
	}
	buf := &s.bufs[s.turn]
	s.turn ^= 1
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	body, err := readBody(s.conn, (*buf)[:n])
	return frame{body, err}
}

// overBound returns the session bound the last request crossed, if any.
func (s *session) overBound() *Error {
	switch {
	case s.requests > s.lim.maxRequests:
		return protocolError(LimitExceeded, "requests per session", nil)
	case s.read > s.lim.maxBytes:
		return protocolError(LimitExceeded, "bytes per session", nil)
	}
	return nil
}

func (s *session) handshake() error {
	body, err := s.readFrame()
	if err != nil {
		return err
	}
	hello, err := DecodeHello(body)
	if err != nil {
		return err
	}
	if e := s.overBound(); e != nil {
		return e
	}
	if hello.Role != RoleNormal {
		return protocolError(Malformed, "hello from role "+hello.Role.String(), nil)
	}
	// The reply goes out even on a version mismatch, so that the client
	// can say which versions disagree.
	reply, err := EncodeHelloReply(&HelloReply{Version: ProtocolVersion, MaxFrame: MaxFrame, MaxChunk: MaxChunk})
	if err != nil {
		return err
	}
	if err := WriteFrame(s.conn, reply); err != nil {
		return err
	}
	if hello.Version != ProtocolVersion {
		return versionError(hello.Version)
	}
	return nil
}

// serveOne reads, handles and answers one request. A nil return means the
// session goes on.
func (s *session) serveOne(ctx context.Context) error {
	body, err := s.readFrame()
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Where == Protocol {
			// The peer may be waiting for an answer; after this the
			// stream is out of step, so the session ends either way.
			_ = s.writeError(0, e) // the session ends either way
		}
		return err
	}
	req, err := decodeRequest(body)
	var id uint64
	if req != nil {
		id = req.ID
	}
	s.requests++
	if e := s.overBound(); e != nil {
		_ = s.writeError(id, e) // the session ends with e either way
		return e
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = protocolError(Malformed, err.Error(), nil)
		}
		return s.writeError(id, e)
	}
	row, _ := rowOf(req.Op) // decodeRequest returns only known ops
	if row.readAhead {
		s.readAhead()
	}
	resp := s.handle(ctx, row, req)
	if err := s.write(resp); err != nil {
		return err
	}
	if row.ends != nil && resp.Status == OK {
		return row.ends
	}
	return nil
}

// handle calls the handler through the op's row and builds the response.
func (s *session) handle(ctx context.Context, row *opRow, req *Request) *Response {
	res, err := row.serve(ctx, s, req.Args)
	var se sessionError
	switch {
	case errors.As(err, &se):
		return &Response{Version: ProtocolVersion, ID: req.ID, Status: se.e.Code, Message: truncateMessage(se.e.Message)}
	case err != nil:
		code, msg := handlerStatus(err)
		return &Response{Version: ProtocolVersion, ID: req.ID, Status: code, Message: msg}
	}
	return &Response{Version: ProtocolVersion, ID: req.ID, Result: res}
}

// sessionError is a refusal by the session itself rather than the
// handler (a WriteShared range outside the region): it is answered with
// its own code, where a handler's non-secure code would become Internal.
type sessionError struct{ e *Error }

func (s sessionError) Error() string { return s.e.Error() }

// sharedChunk copies the data a WriteShared names out of the shared
// region, into the session's buffer, valid until the next one.
func (s *session) sharedChunk(a WriteSharedArgs) ([]byte, *Error) {
	if s.shared == nil {
		return nil, errNoShared
	}
	if e := s.shared.check(a.Start, a.Length); e != nil {
		return nil, e
	}
	if b, ok := s.h.(ChunkBuffers); ok {
		if buf := b.ChunkBuffer(a.Set, a.Payload, int(a.Length)); len(buf) >= int(a.Length) {
			return s.shared.copyOut(buf, a.Start, a.Length), nil
		}
	}
	if s.sharedBuf == nil {
		s.sharedBuf = make([]byte, MaxChunk)
	}
	return s.shared.copyOut(s.sharedBuf, a.Start, a.Length), nil
}

// write sends resp. A result the handler made that cannot be sent (out of
// bounds, an unknown state) becomes an Internal error response: the
// handler's fault, not the peer's.
func (s *session) write(resp *Response) error {
	m, err := encodeResponse(resp)
	if err != nil {
		m, err = encodeResponse(&Response{
			Version: ProtocolVersion,
			ID:      resp.ID,
			Status:  Internal,
			Message: truncateMessage("handler result: " + err.Error()),
		})
		if err != nil {
			return err
		}
	}
	return writeMessage(s.conn, m, MaxFrame)
}

// writeError answers with a protocol error; it returns only a write
// failure.
func (s *session) writeError(id uint64, e *Error) error {
	msg := e.Message
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return s.write(&Response{Version: ProtocolVersion, ID: id, Status: e.Code, Message: truncateMessage(msg)})
}
