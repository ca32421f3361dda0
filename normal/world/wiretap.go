package world

import (
	"errors"
	"io"
	"os"
	"time"
)

// wiretap copies every byte that crosses the normal world's end of the
// ipc socket into two files, one per direction (PREFIX.to-secure and
// PREFIX.to-normal, appended across reboots), and the client copies what
// it puts in the shared region into PREFIX.to-secure too, just before the
// request that names it, so that a test or an auditor
// can check what the normal world was given: the normal world sees all of
// it anyway, which is the point of the check.
type wiretap struct {
	conn          io.ReadWriteCloser
	sent, arrived *os.File
}

// Recorder is a wiretap's two files, opened before the process is
// confined (the files are the operator's, outside the spool).
type Recorder struct {
	sent, arrived *os.File
}

// OpenRecorder opens (appending) PREFIX.to-secure and PREFIX.to-normal.
func OpenRecorder(prefix string) (*Recorder, error) {
	open := func(name string) (*os.File, error) {
		return os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	}
	sent, err := open(prefix + ".to-secure")
	if err != nil {
		return nil, err
	}
	arrived, err := open(prefix + ".to-normal")
	if err != nil {
		sent.Close()
		return nil, err
	}
	return &Recorder{sent: sent, arrived: arrived}, nil
}

func (r *Recorder) tap(conn io.ReadWriteCloser) *wiretap {
	return &wiretap{conn: conn, sent: r.sent, arrived: r.arrived}
}

func (w *wiretap) Read(p []byte) (int, error) {
	n, err := w.conn.Read(p)
	if _, werr := w.arrived.Write(p[:n]); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

func (w *wiretap) Write(p []byte) (int, error) {
	n, err := w.conn.Write(p)
	if _, werr := w.sent.Write(p[:n]); werr != nil && err == nil {
		err = werr
	}
	return n, err
}

func (w *wiretap) Close() error {
	return errors.Join(w.conn.Close(), w.sent.Close(), w.arrived.Close())
}

// SetDeadline passes through, so that the client can still be cancelled.
func (w *wiretap) SetDeadline(t time.Time) error {
	if d, ok := w.conn.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return errors.ErrUnsupported
}
