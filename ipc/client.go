package ipc

import (
	"context"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// Client is the normal world's end of a session. It is safe for concurrent
// use: calls are serialised, one request in flight at a time but for the
// chunks of WriteChunks. *Client
// implements Handler, so a caller can stand in for the secure world with
// one.
//
// A call returns the secure world's refusal as an *Error with Where Secure,
// a protocol fault as Where Protocol and an I/O fault as Where Transport.
// After a fault in the stream (an I/O error, a bad frame, a response that
// does not decode or answers another request, a call abandoned through
// its ctx) the stream can no longer be trusted to be in step: the client
// closes conn and every later call fails with a Transport error wrapping
// the first fault. A refusal by the secure world, a protocol error it
// reports, and arguments refused before sending leave the client usable.
type Client struct {
	conn     io.ReadWriteCloser
	maxChunk int
	maxFrame uint32

	// shared is the region WriteChunks puts chunks in, if any, cut in
	// slots of maxChunk bytes; sharedTap gets a copy of what goes there.
	shared    *Shared
	sharedTap io.Writer

	closed atomic.Bool
	mu     sync.Mutex // serialises calls; guards what follows
	nextID uint64
	broken error
}

var _ Handler = (*Client)(nil)

// NewClient takes over conn, sends a Hello and checks the HelloReply: the
// same ProtocolVersion (else ErrVersionMismatch, naming both versions) and
// sane bounds. It blocks until the secure world answers; give conn a
// deadline if it may not. On error conn is closed.
func NewClient(conn io.ReadWriteCloser) (*Client, error) {
	c, err := handshake(conn)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewSharedClient is NewClient for a session with a shared region, which
// WriteChunks then uses for the chunks' data: each request names a slot of
// it instead of carrying the bytes, which the normal world writes there
// (reads them from a file straight into it). tap, if not nil, gets a copy
// of every byte written into the region, before the request that names it
// is sent: with a recording of the socket, it makes a record of
// everything that crossed. A region too small for two chunks is not used.
func NewSharedClient(conn io.ReadWriteCloser, shared *Shared, tap io.Writer) (*Client, error) {
	c, err := NewClient(conn)
	if err != nil {
		return nil, err
	}
	if shared.Len()/c.maxChunk >= 2 {
		c.shared, c.sharedTap = shared, tap
	}
	return c, nil
}

func handshake(conn io.ReadWriteCloser) (*Client, error) {
	hello, err := EncodeHello(&Hello{Version: ProtocolVersion, Role: RoleNormal})
	if err != nil {
		return nil, err
	}
	if err := WriteFrame(conn, hello); err != nil {
		return nil, err
	}
	body, err := ReadFrame(conn)
	if err != nil {
		return nil, err
	}
	reply, err := DecodeHelloReply(body)
	if err != nil {
		return nil, err
	}
	if reply.Version != ProtocolVersion {
		return nil, protocolError(VersionMismatch, "secure world speaks version "+strconv.FormatUint(reply.Version, 10)+", normal world "+strconv.Itoa(ProtocolVersion), nil)
	}
	// The secure world must accept at least a frame of a few small
	// requests, and offer a chunk that fits in its frames.
	if reply.MaxFrame < 1<<10 || reply.MaxChunk == 0 || reply.MaxChunk > reply.MaxFrame {
		return nil, protocolError(Malformed, "hello reply bounds: frame "+strconv.FormatUint(reply.MaxFrame, 10)+", chunk "+strconv.FormatUint(reply.MaxChunk, 10), nil)
	}
	return &Client{
		conn:     conn,
		maxChunk: int(min(reply.MaxChunk, MaxChunk)),
		maxFrame: uint32(min(reply.MaxFrame, MaxFrame)),
	}, nil
}

// MaxChunk is the most data one WriteChunk may carry: the smaller of
// MaxChunk and the secure world's offer.
func (c *Client) MaxChunk() int { return c.maxChunk }

// Close closes conn, which ends the session and fails a call in flight.
// It may be called concurrently with calls.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.conn.Close()
}

var errClosed = transportError("client closed", net.ErrClosed)

// call sends one request and returns its successful response.
func (c *Client) call(ctx context.Context, args any) (*Response, error) {
	op, _ := argsOp(args)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return nil, errClosed
	}
	if c.broken != nil {
		return nil, transportError("session broken by an earlier fault", c.broken)
	}
	c.nextID++
	id := c.nextID
	m, err := encodeRequest(&Request{Version: ProtocolVersion, ID: id, Op: op, Args: args})
	if err != nil {
		// Nothing was sent: the session is intact.
		return nil, err
	}
	// A call abandoned half way leaves a response in the stream that
	// would answer the next request; closing conn is the only way out.
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	err = writeMessage(c.conn, m, c.maxFrame)
	var body []byte
	if err == nil {
		body, err = ReadFrame(c.conn)
	}
	if !stop() {
		err = transportError("call "+op.String()+" abandoned", ctx.Err())
		c.broken = err
		return nil, err
	}
	if err != nil {
		return nil, c.fail(err)
	}
	resp, err := DecodeResponse(body, op)
	if err != nil {
		return nil, c.fail(err)
	}
	switch {
	case resp.ID == id:
	case resp.ID == 0 && resp.Status.where() == Protocol:
		// The secure world could not read our request. It may also end
		// the session; the next call will tell.
		return nil, resp.Err()
	default:
		return nil, c.fail(protocolError(IDMismatch, "response "+strconv.FormatUint(resp.ID, 10)+" to request "+strconv.FormatUint(id, 10), nil))
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	return resp, nil
}

// fail marks the session unusable and closes conn. It returns err.
func (c *Client) fail(err error) error {
	c.broken = err
	c.conn.Close()
	return err
}

// Query returns the state of every component.
func (c *Client) Query(ctx context.Context) ([]ComponentInfo, error) {
	r, err := c.call(ctx, QueryArgs{})
	if err != nil {
		return nil, err
	}
	return r.Result.([]ComponentInfo), nil
}

// StartUpdate hands a SUIT envelope (at most MaxEnvelope bytes) to the
// secure world and returns the update set it opened and the payloads to
// write.
func (c *Client) StartUpdate(ctx context.Context, envelope []byte) (*StartResult, error) {
	r, err := c.call(ctx, StartUpdateArgs{Envelope: envelope})
	if err != nil {
		return nil, err
	}
	res := r.Result.(StartResult)
	return &res, nil
}

// WriteChunk writes data (at most c.MaxChunk() bytes) at offset of a
// payload of set.
func (c *Client) WriteChunk(ctx context.Context, set uint64, payload uint32, offset uint64, data []byte) error {
	if len(data) > c.maxChunk {
		return tooLong("chunk", len(data), c.maxChunk)
	}
	_, err := c.call(ctx, WriteChunkArgs{Set: set, Payload: payload, Offset: offset, Data: data})
	return err
}

// Finish declares a payload of set complete.
func (c *Client) Finish(ctx context.Context, set uint64, payload uint32) error {
	_, err := c.call(ctx, FinishArgs{Set: set, Payload: payload})
	return err
}

// Install stages set for the next reset.
func (c *Client) Install(ctx context.Context, set uint64) error {
	_, err := c.call(ctx, InstallArgs{Set: set})
	return err
}

// Accept makes the images in trial permanent.
func (c *Client) Accept(ctx context.Context) error {
	_, err := c.call(ctx, AcceptArgs{})
	return err
}

// Reject abandons the images in trial.
func (c *Client) Reject(ctx context.Context) error {
	_, err := c.call(ctx, RejectArgs{})
	return err
}

// Cancel abandons update set set (0: whichever is in progress) before it
// is installed. The normal world sends it after any failure of an update,
// so that the next update finds the secure world idle.
func (c *Client) Cancel(ctx context.Context, set uint64) error {
	_, err := c.call(ctx, CancelArgs{Set: set})
	return err
}

// Clean discards a failed update set.
func (c *Client) Clean(ctx context.Context) error {
	_, err := c.call(ctx, CleanArgs{})
	return err
}

// DeviceStatus returns the secure world's whole status: the bootloader's
// journal, each component's counter and slots, and the TA store.
func (c *Client) DeviceStatus(ctx context.Context) (*DeviceStatusResult, error) {
	r, err := c.call(ctx, DeviceStatusArgs{})
	if err != nil {
		return nil, err
	}
	res := r.Result.(DeviceStatusResult)
	return &res, nil
}

// Reboot asks the secure world to reset the device. The session ends
// with the reset: the client cannot be used after it.
func (c *Client) Reboot(ctx context.Context) error {
	_, err := c.call(ctx, RebootArgs{})
	return err
}

// RelayTEEP passes a TEEP message to the Agent and returns its answer
// (see RelayTEEPResult); an empty msg continues the install set whose
// payloads the last answer asked for.
func (c *Client) RelayTEEP(ctx context.Context, msg []byte) (*RelayTEEPResult, error) {
	r, err := c.call(ctx, RelayTEEPArgs{Message: msg})
	if err != nil {
		return nil, err
	}
	res := r.Result.(RelayTEEPResult)
	return &res, nil
}

// Evidence returns evidence bound to nonce (at most MaxNonce bytes).
func (c *Client) Evidence(ctx context.Context, nonce []byte) ([]byte, error) {
	r, err := c.call(ctx, GetEvidenceArgs{Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return r.Result.(EvidenceResult).Evidence, nil
}
