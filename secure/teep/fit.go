package teep

import "bytes"

// FitsOneUpdate checks that one Update carrying these SUIT envelopes and
// nothing else fits in one signed message (MaxMessageSize) whatever its
// sender chooses: the longest token, every envelope tagged (107), either
// numbering, and SignOverhead for the COSE_Sign1 around it. TEEP delivers
// an envelope only inside an Update, so a TAM checks what it accepts for
// delivery with it; one that does not fit could never be sent. Each
// envelope may come tagged or not; only its size is read. ErrLimit when
// they do not fit.
func FitsOneUpdate(envelopes ...[]byte) error {
	if len(envelopes) > MaxManifests {
		return wrapf(ErrLimit, "%d envelopes, at most %d in one Update", len(envelopes), MaxManifests)
	}
	// The manifest-list holds each envelope as a byte string, so the
	// Update's size depends on the envelopes' sizes alone: it is encoded
	// with the smallest envelope (an empty map) in each place, and each
	// envelope's own bytes and byte-string head replace that one's.
	u := &Update{Token: make([]byte, MaxTokenSize), Manifests: make([]Manifest, len(envelopes))}
	for i := range u.Manifests {
		u.Manifests[i] = Manifest{Envelope: []byte{0xa0}, Tagged: true}
	}
	size := 0
	for _, n := range []Numbering{Draft26, Legacy} {
		b, err := Encode(u, n)
		if err != nil {
			return err // cannot happen: the placeholder Update is valid
		}
		size = max(size, len(b))
	}
	placeholder := len(suitEnvelopeTag) + 1
	total := 0
	for _, e := range envelopes {
		item := len(suitEnvelopeTag) + len(bytes.TrimPrefix(e, suitEnvelopeTag))
		size += headSize(item) + item - headSize(placeholder) - placeholder
		total += len(e)
	}
	if size+SignOverhead > MaxMessageSize {
		return wrapf(ErrLimit, "an Update of %d envelopes (%d bytes) is %d bytes signed, at most %d",
			len(envelopes), total, size+SignOverhead, MaxMessageSize)
	}
	return nil
}

// headSize is the size of the head of a CBOR byte string of n bytes.
func headSize(n int) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case uint64(n) <= 0xffffffff:
		return 5
	}
	return 9
}
