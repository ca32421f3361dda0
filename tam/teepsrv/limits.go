package teepsrv

import (
	"time"

	"github.com/teeup/teeup/secure/teep"
)

// The bounds of the TEEP endpoint.
const (
	// MaxBody bounds a POSTed TEEP message: the codec's own limit.
	MaxBody = teep.MaxMessageSize

	// TokenSize and ChallengeSize are the sizes of the fresh token and
	// challenge of a QueryRequest: the token within TEEP's 8..64 bytes,
	// the challenge within both TEEP's 8..512 and the EAT nonce's 8..64
	// (attest.MinNonce..MaxNonce), since it becomes the evidence's nonce.
	TokenSize     = 16
	ChallengeSize = 32

	// DefaultSessionLifetime is how long a session waits for the device's
	// next message: for the QueryResponse after the QueryRequest, for
	// Success or Error after the Update (payload downloads included).
	DefaultSessionLifetime = 10 * time.Minute

	// DefaultPollWait and MaxPollWait bound a long poll's wait.
	DefaultPollWait = 30 * time.Second
	MaxPollWait     = 2 * time.Minute
	// MaxPollers bounds the long polls waiting at once (one per device is
	// the norm); past it a poll is answered 503.
	MaxPollers = 10000

	// MaxUpdateManifests bounds the envelopes of one Update: one install
	// set, as the codec bounds a manifest-list.
	MaxUpdateManifests = teep.MaxManifests

	// maxReportsConsidered is how many of a device's last reports the
	// decision reads for the personalization it was delivered.
	maxReportsConsidered = 64
	// MaxRefusals is how many times a device may refuse an envelope
	// before the TAM stops sending it (decide).
	MaxRefusals = 3

	// signOverhead is at least what the COSE_Sign1 around a message adds
	// to its encoding: the tag, the protected algorithm, the kid (a
	// thumbprint), an ESP256 or Ed25519 signature and their headers.
	signOverhead = teep.SignOverhead

	// MaxDeviceIDSize bounds the device parameter of a long poll (a
	// SHA-256 thumbprint in hex is 64).
	MaxDeviceIDSize = 64
)

// The bounds of the CBOR decoder that reads a message's kid before it is
// verified (kid.go): a COSE_Sign1's headers are small and flat.
const (
	maxNesting   = 8
	maxElements  = 16
	maxMapPairs  = 16
	maxKIDSize   = 64
	maxTCClaims  = 16 // pairs of one tc-list entry (system-property-claims)
	maxClaimSize = 1 << 10
)

// maxReasonSize bounds the reason recorded with an attestation.
const maxReasonSize = 1 << 10
