package agent

import "github.com/teeup/teeup/ipc"

// MaxEnvelope bounds an envelope read from a file or a URI: ipc's bound,
// since the envelope crosses the channel whole.
const MaxEnvelope = ipc.MaxEnvelope
