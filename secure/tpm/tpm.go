package tpm

import (
	"sync"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// TPM sends the secure world's TPM commands over a transport. Its methods
// are safe for concurrent use: each runs its commands as one unit, so that
// a read and the write that depends on it are not interleaved with another
// operation of the same TPM.
type TPM struct {
	mu sync.Mutex
	tr transport.TPM
}

// Batcher is a transport that can run a group of commands as one unit. The
// emulator's TPM is one: it saves its NV image once after the group rather
// than after every command, and lets nothing else in between. A transport
// to a chip need not be one.
type Batcher interface {
	transport.TPM
	// Batch runs op, which sends its commands through the transport it is
	// given, with the TPM to itself.
	Batch(op func(transport.TPM) error) error
}

// New returns the TPM reached through tr. The caller keeps tr open for as
// long as the TPM is used and closes it afterwards.
func New(tr transport.TPM) *TPM { return &TPM{tr: tr} }

// do runs op with the TPM to itself, as one batch where the transport
// batches.
func (t *TPM) do(op func(tr transport.TPM) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.tr.(Batcher); ok {
		return b.Batch(op)
	}
	return op(t.tr)
}

// Transport returns the transport the TPM's commands go through, for
// commands this package does not wrap. Each command sent through it is a
// unit of its own.
func (t *TPM) Transport() transport.TPM { return t.tr }

// platformAuth is platform authorization. Its value is empty, as it is
// after every TPM2_Startup(CLEAR) until the boot firmware sets one; on a
// device whose firmware sets one, this is where the secure world would
// supply it.
func platformAuth() tpm2.AuthHandle {
	return tpm2.AuthHandle{Handle: tpm2.TPMRHPlatform, Auth: tpm2.PasswordAuth(nil)}
}
