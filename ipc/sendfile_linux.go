package ipc

import (
	"cmp"
	"errors"
	"io"
	"os"
	"syscall"
)

// sendFileKernel writes up to n bytes of f at off to w with sendfile(2),
// when w is a descriptor; it stops early where f ends. It returns
// errors.ErrUnsupported, with what it sent so far, where sendfile cannot
// be used.
func sendFileKernel(w io.Writer, f *os.File, off int64, n int) (sent int, err error) {
	sc, ok := w.(syscall.Conn)
	if !ok {
		return 0, errors.ErrUnsupported
	}
	dst, err := sc.SyscallConn()
	if err != nil {
		return 0, errors.ErrUnsupported
	}
	src, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var werr error
	cerr := src.Control(func(sfd uintptr) {
		werr = dst.Write(func(dfd uintptr) bool {
			for sent < n {
				k, e := syscall.Sendfile(int(dfd), int(sfd), &off, n-sent)
				sent += max(k, 0)
				switch {
				case e == syscall.EAGAIN:
					return false // wait until the socket has room
				case e == syscall.EINTR:
				case e == syscall.EINVAL || e == syscall.ENOSYS || e == syscall.EOPNOTSUPP:
					err = errors.ErrUnsupported
					return true
				case e != nil:
					err = e
					return true
				case k == 0:
					return true // f ends here
				}
			}
			return true
		})
	})
	return sent, cmp.Or(err, werr, cerr)
}
