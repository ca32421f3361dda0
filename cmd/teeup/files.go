package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// stdio is the file name that means standard input where a file is read
// and standard output where one is written.
const stdio = "-"

// readFile reads path, or standard input for "-".
func (a *app) readFile(path string) ([]byte, error) {
	if path != stdio {
		return os.ReadFile(path)
	}
	b, err := io.ReadAll(io.LimitReader(a.stdin, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("standard input: more than %d bytes", maxInput)
	}
	return b, nil
}

// writeFile writes data to path (created or replaced, with perm), or to
// standard output for "-".
func (a *app) writeFile(path string, data []byte, perm fs.FileMode) error {
	if path == stdio {
		_, err := a.stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, perm)
}

// errExists: a command would overwrite a file it must not overwrite
// silently (a private key).
var errExists = errors.New("already exists")

// writeNewFile writes data to a file that must not exist yet, unless
// force: a private key is never overwritten by accident. The file is
// created with perm, never widened by an older file's mode.
func writeNewFile(path string, data []byte, perm fs.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		return &plainError{plain: fmt.Sprintf("%s %s: keep it, or replace it with --force", path, errExists), err: err, whole: true}
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// say is where a command's human messages go: standard output, unless
// that carries the command's data (a file written to "-", or --json), in
// which case standard error.
func (a *app) say(stdoutTaken bool) io.Writer {
	if stdoutTaken {
		return a.stderr
	}
	return a.stdout
}

// stdinFile copies standard input into a new temporary file, for a command
// that hands files on by name; the caller removes it.
func (a *app) stdinFile() (string, error) {
	b, err := a.readFile(stdio)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp("", "teeup-stdin-*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
