package attest

import (
	"crypto"
	"fmt"

	"github.com/teeup/teeup/attest/eventlog"
)

// EvidenceVersion is the version of the evidence's wire form.
const EvidenceVersion = 1

// Evidence is what a device answers to an attestation request: its
// signed EAT, a TPM quote whose qualifying data is the digest of the
// EAT's payload, over the measurement PCRs, and the boot event log those
// PCRs were extended from. Nothing in it is verified; Verify does that.
type Evidence struct {
	EAT      []byte // COSE_Sign1, tagged
	Quote    Quote
	EventLog eventlog.Log
}

// evidenceWire is the evidence as it travels, a CBOR map with integer
// keys: {1: version, 2: EAT (bstr, COSE_Sign1), 3: quote {1: TPMS_ATTEST
// (bstr), 2: signature (bstr)}, 4: event log (bstr, the eventlog wire
// form)}. A later version may add keys; this decoder refuses unknown
// ones and other versions.
type evidenceWire struct {
	Version  uint   `cbor:"1,keyasint"`
	EAT      []byte `cbor:"2,keyasint"`
	Quote    Quote  `cbor:"3,keyasint"`
	EventLog []byte `cbor:"4,keyasint"`
}

// QuoteFunc has the TPM quote the measurement PCRs with qualifyingData
// as its extraData.
type QuoteFunc func(qualifyingData []byte) (Quote, error)

// NewEvidence builds a device's evidence: it signs claims with key (the
// device's P-256 attestation key), has quote bind the EAT to the TPM's
// PCRs and adds the boot event log. The secure world gathers the data;
// this function only assembles it.
func NewEvidence(c *Claims, key crypto.Signer, quote QuoteFunc, log eventlog.Log) (*Evidence, error) {
	if err := log.Validate(); err != nil {
		return nil, fmt.Errorf("attest: event log: %w", err)
	}
	signed, err := SignClaims(c, key)
	if err != nil {
		return nil, err
	}
	q, err := quote(signed.QuoteData())
	if err != nil {
		return nil, fmt.Errorf("attest: quote: %w", err)
	}
	return &Evidence{EAT: signed.COSE, Quote: q, EventLog: log}, nil
}

// Marshal encodes the evidence deterministically.
func (e *Evidence) Marshal() ([]byte, error) {
	log, err := e.EventLog.Marshal()
	if err != nil {
		return nil, fmt.Errorf("attest: event log: %w", err)
	}
	b, err := encMode.Marshal(evidenceWire{Version: EvidenceVersion, EAT: e.EAT, Quote: e.Quote, EventLog: log})
	if err != nil {
		return nil, fmt.Errorf("attest: encode evidence: %w", err)
	}
	if len(b) > MaxEvidence {
		return nil, fmt.Errorf("%w: evidence of %d bytes, limit %d", ErrMalformed, len(b), MaxEvidence)
	}
	return b, nil
}

// DecodeEvidence decodes evidence strictly and within the limits. It
// verifies nothing: the EAT and the quote are still only claims.
func DecodeEvidence(b []byte) (*Evidence, error) {
	if len(b) > MaxEvidence {
		return nil, fmt.Errorf("%w: evidence of %d bytes, limit %d", ErrMalformed, len(b), MaxEvidence)
	}
	var w evidenceWire
	if err := evidenceDecMode.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: evidence: %w", ErrMalformed, err)
	}
	switch {
	case w.Version != EvidenceVersion:
		return nil, fmt.Errorf("%w: evidence version %d, want %d", ErrMalformed, w.Version, EvidenceVersion)
	case len(w.EAT) == 0 || len(w.EAT) > MaxEAT:
		return nil, fmt.Errorf("%w: EAT of %d bytes, want 1..%d", ErrMalformed, len(w.EAT), MaxEAT)
	case len(w.Quote.Attest) == 0 || len(w.Quote.Attest) > MaxQuoteAttest:
		return nil, fmt.Errorf("%w: quote of %d bytes, want 1..%d", ErrMalformed, len(w.Quote.Attest), MaxQuoteAttest)
	case len(w.Quote.Signature) == 0 || len(w.Quote.Signature) > MaxQuoteSignature:
		return nil, fmt.Errorf("%w: quote signature of %d bytes, want 1..%d", ErrMalformed, len(w.Quote.Signature), MaxQuoteSignature)
	}
	log, err := eventlog.Unmarshal(w.EventLog)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &Evidence{EAT: w.EAT, Quote: w.Quote, EventLog: log}, nil
}
