package world

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/teeup/teeup/normal/control"
)

// SpoolDir is the normal world's spool, next to its control socket: its
// working directory and all it may read or write of the filesystem
// beyond the system's files, when confined.
const SpoolDir = "spool"

// HandOver copies the local files of an update request (envelopes and
// payloads given as files) into a new directory of the spool next to
// sock, owned by the spool's owner (the normal world's user), and names
// them there, relative to the spool: a confined normal world reads
// nothing else. remove deletes the copies. A device without a spool
// (a normal world run in a test, unconfined) gets the request as is.
func HandOver(sock string, req control.Request) (_ control.Request, remove func(), err error) {
	spool := filepath.Join(filepath.Dir(sock), SpoolDir)
	st, err := os.Stat(spool)
	if errors.Is(err, fs.ErrNotExist) {
		return req, func() {}, nil
	}
	if err != nil {
		return req, nil, err
	}
	dir, err := os.MkdirTemp(spool, "update-")
	if err != nil {
		return req, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	owner := st.Sys().(*syscall.Stat_t)
	if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
		return req, nil, err
	}
	n := 0
	copyIn := func(src string) (string, error) {
		n++
		name := fmt.Sprintf("%d-%s", n, filepath.Base(src))
		if err := copyOwned(src, filepath.Join(dir, name), int(owner.Uid), int(owner.Gid)); err != nil {
			return "", err
		}
		return filepath.Join(filepath.Base(dir), name), nil
	}
	out := req
	out.Envelopes, out.Local = nil, nil
	for _, e := range req.Envelopes {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			if e, err = copyIn(e); err != nil {
				return req, nil, err
			}
		}
		out.Envelopes = append(out.Envelopes, e)
	}
	if req.Local != nil {
		out.Local = map[string]string{}
	}
	for uri, file := range req.Local {
		if out.Local[uri], err = copyIn(file); err != nil {
			return req, nil, err
		}
	}
	return out, cleanup, nil
}

func copyOwned(from, to string, uid, gid int) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Chown(uid, gid); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
