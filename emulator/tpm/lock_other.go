//go:build !unix

package tpm

import "os"

// lockDir does nothing where flock is missing: the in-process guard in Open
// still holds, but two processes could share a directory.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) error { return nil }
