package catalog

import (
	"github.com/teeup/teeup/secure/suit"
)

// imageDigests lists the SHA-256 image digests a manifest sets anywhere
// (its shared sequence and every command sequence present, try-each and
// run-sequence alternatives included): a detached payload must be one of
// them, the plaintext of an image or the ciphertext its staging component
// checks.
func imageDigests(m *suit.Manifest) [][]byte {
	var out [][]byte
	add := func(p suit.Parameters) {
		if d, ok := p.Digest(suit.ParamImageDigest); ok && d.Alg == suit.AlgSHA256 {
			out = append(out, d.Bytes)
		}
	}
	var walk func(s suit.Sequence)
	walk = func(s suit.Sequence) {
		for _, cmd := range s {
			if cmd.Params != nil {
				add(cmd.Params)
			}
			for _, ip := range cmd.Multiple {
				add(ip.Params)
			}
			for _, sub := range cmd.Sequences {
				walk(sub)
			}
		}
	}
	walk(m.Shared)
	for _, member := range m.Members {
		if member != nil {
			walk(member.Commands)
		}
	}
	return out
}
