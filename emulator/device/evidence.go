package device

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoEvidence: the device's secure world makes no evidence (its
// hardware has no attester).
var ErrNoEvidence = errors.New("device: the secure world makes no evidence")

// OfflineEvidence attests a device that is off: it powers it on, as any
// use of the device does (the bootloader runs, measures into the TPM's
// PCR, and carries on an operation in progress as at any reset), has its
// secure world make evidence for nonce, and powers it off. The boot is
// counted in state.json as `device reboot` counts it.
func OfflineEvidence(ctx context.Context, dir string, nonce []byte) (ev []byte, err error) {
	d, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, d.Close()) }()
	if _, err := d.Reboot(ctx, nil); err != nil {
		return nil, fmt.Errorf("device: boot: %w", err)
	}
	src, err := d.Secure.Evidence()
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, ErrNoEvidence
	}
	return src.Evidence(nonce)
}
