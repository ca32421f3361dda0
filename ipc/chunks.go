package ipc

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"iter"
	"net"
	"os"
	"strconv"
	"sync/atomic"
)

// chunksInFlight is how many WriteChunk requests WriteChunks sends before
// it has the answer to the first: the secure world then finds the next
// chunk queued on the channel even when the normal world is slow to be
// scheduled.
const chunksInFlight = 3

// A Chunk is the data of one WriteChunk request of WriteChunks: Data, or,
// when File is set, Len bytes of File at Off. A file's bytes are read
// straight into the shared region, if the session has one; else a socket
// takes them straight from the page cache (sendfile(2) on Linux). Either
// way they are not copied through the normal world's memory.
type Chunk struct {
	Data []byte
	File *os.File
	Off  int64
	Len  int
}

// Size is the number of bytes of the chunk.
func (c Chunk) Size() int {
	if c.File != nil {
		return c.Len
	}
	return len(c.Data)
}

// WriteChunks writes each chunk that chunks yields at its offset of a
// payload of set, as a run of WriteChunk calls would, but without waiting
// for each answer: up to chunksInFlight requests are in flight (with a
// shared region, one per slot, up to SharedSlots), so that the secure
// world has the next chunk at hand as soon as it is done with one. The answers are read as they come, so that the secure world never
// waits to write one, whatever the channel buffers. A chunk is at most
// c.MaxChunk() bytes; it is sent before the loop body returns, so the
// producer may then reuse it.
//
// It stops at the first chunk refused, by the secure world or as too
// long, reads the answers to the requests already sent, and returns the
// first refusal; the client stays usable, as after a refused WriteChunk.
// A file that ends inside its chunk breaks the session, like any fault.
// Other calls wait until WriteChunks returns.
func (c *Client) WriteChunks(ctx context.Context, set uint64, payload uint32, chunks iter.Seq2[uint64, Chunk]) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return errClosed
	}
	if c.broken != nil {
		return transportError("session broken by an earlier fault", c.broken)
	}
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })

	// The reader takes the ID of each request before it is sent, which
	// bounds the requests in flight, and reads its answer. With a shared
	// region a request holds its slot until the answer: as many are in
	// flight as there are slots, and slot k%slots is free again once the
	// answer to request k-slots is read.
	inFlight, slots := chunksInFlight, 0
	if c.shared != nil {
		slots = min(c.shared.Len()/c.maxChunk, SharedSlots)
		inFlight = slots
	}
	type outcome struct{ refused, fault error }
	ids := make(chan uint64, inFlight-1)
	read := make(chan outcome, 1)
	var halt atomic.Bool // the reader saw a refusal or a fault
	go func() {
		var o outcome
		for id := range ids {
			if o.fault == nil {
				o.fault = c.answerChunk(id, &o.refused)
			}
			if o.fault != nil {
				c.conn.Close() // the sender may be blocked on the stream
			}
			halt.Store(o.refused != nil || o.fault != nil)
		}
		read <- o
	}()
	var refused, fault error
	k := 0 // chunks sent
	for off, chunk := range chunks {
		if halt.Load() {
			break
		}
		c.nextID++
		var m message
		if slots > 0 {
			m, refused = c.sharedRequest(c.nextID, set, payload, off, chunk, k%slots)
		} else {
			m, refused = c.chunkRequest(c.nextID, set, payload, off, chunk)
		}
		if refused != nil {
			break
		}
		ids <- c.nextID
		if slots > 0 {
			fault = c.sendShared(m, chunk, k%slots)
		} else {
			fault = c.sendChunk(m, chunk)
		}
		if fault != nil {
			c.conn.Close() // the reader waits for an answer that will not come
			break
		}
		k++
	}
	close(ids)
	o := <-read
	if !stop() {
		err := transportError("call WriteChunk abandoned", ctx.Err())
		c.broken = err
		return err
	}
	if err := cmp.Or(fault, o.fault); err != nil {
		return c.fail(err)
	}
	return cmp.Or(o.refused, refused) // an answer is for an earlier chunk
}

// chunkRequest encodes the WriteChunk request of chunk, all but its data
// when the data is a file's, and checks it against the bounds; an error
// means it was refused and nothing was sent.
func (c *Client) chunkRequest(id, set uint64, payload uint32, off uint64, chunk Chunk) (message, error) {
	n := chunk.Size()
	if n < 0 || n > c.maxChunk {
		return message{}, tooLong("chunk", n, c.maxChunk)
	}
	// The request without its data ends with an empty byte string, whose
	// head becomes that of the data, which follows it.
	m, err := encodeRequest(&Request{Version: ProtocolVersion, ID: id, Op: OpWriteChunk,
		Args: WriteChunkArgs{Set: set, Payload: payload, Offset: off}})
	if err != nil {
		return message{}, err
	}
	m = message{head: appendBstrHead(m.head[:len(m.head)-1], n)}
	if chunk.File == nil {
		m.tail = chunk.Data
	}
	if size := len(m.head) + n; size > int(c.maxFrame) {
		return message{}, protocolError(LimitExceeded, "frame of "+strconv.Itoa(size)+" bytes, bound "+strconv.FormatUint(uint64(c.maxFrame), 10), nil)
	}
	return m, nil
}

// sharedRequest encodes the WriteShared request of chunk, whose data goes
// in the given slot, and checks it against the bounds; an error means it
// was refused and nothing was sent.
func (c *Client) sharedRequest(id, set uint64, payload uint32, off uint64, chunk Chunk, slot int) (message, error) {
	n := chunk.Size()
	if n < 0 || n > c.maxChunk {
		return message{}, tooLong("chunk", n, c.maxChunk)
	}
	return encodeRequest(&Request{Version: ProtocolVersion, ID: id, Op: OpWriteShared, Args: WriteSharedArgs{
		Set: set, Payload: payload, Offset: off, Start: uint64(slot * c.maxChunk), Length: uint32(n)}})
}

// sendShared puts the data of chunk in its slot of the shared region,
// then sends m, its request.
func (c *Client) sendShared(m message, chunk Chunk, slot int) error {
	dst := c.shared.slot(slot, c.maxChunk)[:chunk.Size()]
	if chunk.File != nil {
		if _, err := chunk.File.ReadAt(dst, chunk.Off); err != nil {
			return transportError("read chunk from file", err)
		}
	} else {
		copy(dst, chunk.Data)
	}
	if c.sharedTap != nil {
		if _, err := c.sharedTap.Write(dst); err != nil {
			return transportError("record shared chunk", err)
		}
	}
	return writeMessage(c.conn, m, c.maxFrame)
}

// sendChunk writes m, a request from chunkRequest, as one frame, followed
// by the bytes of chunk's file, if any.
func (c *Client) sendChunk(m message, chunk Chunk) error {
	var hdr [frameHeader]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(m.head)+chunk.Size()))
	bufs := net.Buffers{hdr[:], m.head, m.tail}
	if _, err := bufs.WriteTo(c.conn); err != nil {
		return transportError("write frame", err)
	}
	if chunk.File == nil {
		return nil
	}
	if err := sendFile(c.conn, chunk.File, chunk.Off, chunk.Len); err != nil {
		return transportError("write frame from file", err)
	}
	return nil
}

// answerChunk reads the answer to the WriteChunk request id and keeps the
// first refusal in refused. It returns a fault.
func (c *Client) answerChunk(id uint64, refused *error) error {
	body, err := ReadFrame(c.conn)
	if err != nil {
		return err
	}
	resp, err := DecodeResponse(body, OpWriteChunk)
	if err != nil {
		return err
	}
	// ID 0: the secure world could not read the request, as in call.
	if resp.ID != id && (resp.ID != 0 || resp.Status.where() != Protocol) {
		return protocolError(IDMismatch, "response "+strconv.FormatUint(resp.ID, 10)+" to request "+strconv.FormatUint(id, 10), nil)
	}
	if err := resp.Err(); err != nil && *refused == nil {
		*refused = err
	}
	return nil
}

// sendFile writes n bytes of f at off to w: in the kernel where it can
// (sendFileKernel), else through a buffer. A file with fewer than n bytes
// there is io.ErrUnexpectedEOF.
func sendFile(w io.Writer, f *os.File, off int64, n int) error {
	sent, err := sendFileKernel(w, f, off, n)
	if errors.Is(err, errors.ErrUnsupported) {
		var copied int64
		copied, err = io.Copy(w, io.NewSectionReader(f, off+int64(sent), int64(n-sent)))
		sent += int(copied)
	}
	if err == nil && sent < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}
