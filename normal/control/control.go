// Package control is the local socket on which the normal world takes
// commands from the device's user (teeup device update): one JSON request
// per connection, answered with JSON lines of progress and a final result.
//
// Trust: the socket is the user's; it reaches only what the normal world
// may do, which is to ask the secure world, so it adds no privilege.
package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Request is what a user asks of the normal world.
type Request struct {
	// Op is "update", "teep", "status", "device-status" or "evidence".
	Op string `json:"op"`
	// Nonce is the verifier's nonce of an evidence request.
	Nonce []byte `json:"nonce,omitempty"`
	// Envelopes are files or http(s) URIs.
	Envelopes []string `json:"envelopes,omitempty"`
	// Local maps payload URIs to files.
	Local map[string]string `json:"local,omitempty"`
	// TAM is the TAM's base URL of a teep request (one TEEP session);
	// empty: the TAM the normal world was started with.
	TAM string `json:"tam,omitempty"`
	// TAMCA is the PEM of the certificates a teep request trusts for
	// the TAM (a confined normal world cannot read the file).
	TAMCA []byte `json:"tam_ca,omitempty"`
}

// Line is one line of the answer: progress, or the final result.
type Line struct {
	Progress string `json:"progress,omitempty"`
	Done     bool   `json:"done,omitempty"`
	Error    string `json:"error,omitempty"`
	// Status is the device's status as the secure world reported it: the
	// result of a status request, or of an update that needs no reboot;
	// on a line before the final one, the status of a set staged for the
	// reboot that follows.
	Status json.RawMessage `json:"status,omitempty"`
	// TEEP, on a line before the final one, is the outcome of a TEEP
	// session, as the broker counted it (normal/broker.Outcome).
	TEEP json.RawMessage `json:"teep,omitempty"`
}

// ErrHungUp is returned by Call when the normal world closes the
// connection before its final line: it stopped, or the device reset.
var ErrHungUp = errors.New("control: the normal world hung up")

// ErrNoListener is returned by Call when nothing listens on the socket:
// the normal world does not run.
var ErrNoListener = errors.New("control: no normal world listens")

// Handler serves one request, sending the lines before the final one
// with send (Done is ignored there), and returns the final line's status.
type Handler func(ctx context.Context, req Request, send func(Line)) (json.RawMessage, error)

// Serve accepts connections on the Unix socket at path until ctx ends.
func Serve(ctx context.Context, path string, h Handler) error {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	return ServeListener(ctx, l, h)
}

// ServeListener accepts connections on l until ctx ends, and closes l.
// A confined normal world serves the socket its supervisor made.
func ServeListener(ctx context.Context, l net.Listener, h Handler) error {
	defer l.Close()
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		serveConn(ctx, c, h) // one at a time: the secure world takes one update at a time
	}
}

func serveConn(ctx context.Context, c net.Conn, h Handler) {
	defer c.Close()
	enc := json.NewEncoder(c)
	r := bufio.NewReaderSize(c, 4096)
	line, err := readLine(r)
	if err != nil {
		_ = enc.Encode(Line{Done: true, Error: err.Error()}) // a client that hung up reads no answer
		return
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		_ = enc.Encode(Line{Done: true, Error: fmt.Sprintf("bad request: %v", err)}) // a client that hung up reads no answer
		return
	}
	// The user gives up (Ctrl-C) by closing its side of the connection:
	// the request's ctx ends, and the handler still answers, which the
	// user waits for.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = r.ReadByte() // EOF, or a byte that has no meaning: either way, stop
		cancel()
	}()
	status, err := h(ctx, req, func(l Line) {
		l.Done = false
		_ = enc.Encode(l) // a user who hung up reads no progress; the request still runs to its end
	})
	final := Line{Done: true, Status: status}
	if err != nil {
		final.Error = err.Error()
	}
	_ = enc.Encode(final) // a client that hung up reads no answer; the request ran to its end
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, more, err := r.ReadLine()
		if err != nil {
			return nil, err
		}
		line = append(line, part...)
		if len(line) > MaxRequest {
			return nil, errors.New("request too long")
		}
		if !more {
			return line, nil
		}
	}
}

// CancelGrace is how long Call waits for the final line once its ctx has
// ended: the normal world cancels what it was doing and says so.
const CancelGrace = 30 * time.Second

// Call sends a request to the socket at path and passes every line to fn
// until the final one, which it returns. When ctx ends first, Call closes
// its side of the connection, which asks the normal world to stop, and
// still waits up to CancelGrace for the final line, which says how the
// request ended.
func Call(ctx context.Context, path string, req Request, fn func(Line)) (*Line, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoListener, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() {
		// Best effort: if either fails, the read below fails, and the
		// caller hears that the normal world hung up.
		if uc, ok := c.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
		_ = c.SetReadDeadline(time.Now().Add(CancelGrace))
	})
	defer stop()
	// A normal world that hangs up before it reads the request (it
	// stopped, or the device reset) fails the write; what it said before
	// that is still in the socket, so read it before reporting the hang-up.
	writeErr := json.NewEncoder(c).Encode(req)
	dec := json.NewDecoder(c)
	for {
		var l Line
		if err := dec.Decode(&l); err != nil {
			if writeErr != nil {
				return nil, fmt.Errorf("%w: send request: %w", ErrHungUp, writeErr)
			}
			return nil, fmt.Errorf("%w: %w", ErrHungUp, err)
		}
		if l.Done {
			return &l, nil
		}
		if fn != nil {
			fn(l)
		}
	}
}
