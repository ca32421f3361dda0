package world

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/teeup/teeup/normal/control"
)

// EvidenceAnswer is the answer to an evidence request on the control
// socket: the secure world's evidence, as it made it.
type EvidenceAnswer struct {
	Evidence []byte `json:"evidence"`
}

// QueryEvidence asks the device whose normal world listens on sock for
// evidence bound to nonce, which the normal world relays to its secure
// world and back. A device that does not listen (it is off) is
// control.ErrNoListener.
func QueryEvidence(ctx context.Context, sock string, nonce []byte) ([]byte, error) {
	final, err := control.Call(ctx, sock, control.Request{Op: "evidence", Nonce: nonce}, nil)
	if err != nil {
		return nil, err
	}
	if final.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrRefused, final.Error)
	}
	var a EvidenceAnswer
	if err := json.Unmarshal(final.Status, &a); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return a.Evidence, nil
}
