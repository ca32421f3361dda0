package teep

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// envelopeOf is a CBOR map of exactly n bytes (one byte string in it,
// where an envelope's integrated payload would be), which is all an
// Update asks of an envelope.
func envelopeOf(t testing.TB, n int) []byte {
	t.Helper()
	for body := n - 1; body >= 0; body-- {
		b, err := cbor.Marshal(map[string][]byte{"#ta": make([]byte, body)})
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == n {
			return b
		}
	}
	t.Fatalf("no byte string encodes in %d bytes", n)
	return nil
}

// largestFitting is the size of the largest single envelope
// FitsOneUpdate accepts.
func largestFitting(t testing.TB) int {
	t.Helper()
	lo, hi := 1, MaxMessageSize // fits(lo), !fits(hi)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if FitsOneUpdate(envelopeOf(t, mid)) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// TestFitsOneUpdate: what FitsOneUpdate accepts is signed into one
// message by both algorithms, in both numberings, tagged, with the
// longest token; one byte more it refuses with ErrLimit, and so it does
// two envelopes that fit alone but not together.
func TestFitsOneUpdate(t *testing.T) {
	t.Parallel()
	largest := largestFitting(t)
	if largest < MaxMessageSize-SignOverhead-MaxTokenSize-32 {
		t.Fatalf("largest envelope that fits is %d bytes: the Update around it is counted too generously", largest)
	}
	env := envelopeOf(t, largest)
	for _, alg := range SignAlgs {
		for _, n := range []Numbering{Draft26, Legacy} {
			t.Run(fmt.Sprintf("alg %d %s", alg, n), func(t *testing.T) {
				t.Parallel()
				u := &Update{Token: make([]byte, MaxTokenSize), Manifests: []Manifest{{Envelope: env, Tagged: true}}}
				if _, err := Sign(u, n, signingKey(t, alg)); err != nil {
					t.Fatalf("an envelope FitsOneUpdate accepts does not sign into one message: %v", err)
				}
			})
		}
	}
	half := envelopeOf(t, largest/2+64)
	tagged := append(append([]byte{}, suitEnvelopeTag...), env...)
	for _, tc := range []struct {
		name      string
		envelopes [][]byte
		want      error
	}{
		{"the largest", [][]byte{env}, nil},
		{"the largest, tagged already", [][]byte{tagged}, nil},
		{"one byte more", [][]byte{envelopeOf(t, largest+1)}, ErrLimit},
		{"twice the message bound", [][]byte{envelopeOf(t, 2*MaxMessageSize)}, ErrLimit},
		{"one of two that fit alone", [][]byte{half}, nil},
		{"two that fit alone but not together", [][]byte{half, half}, ErrLimit},
		{"bytes that are no envelope: only the size counts", [][]byte{[]byte("held envelope")}, nil},
		{"more envelopes than a manifest-list holds", make([][]byte, MaxManifests+1), ErrLimit},
	} {
		if err := FitsOneUpdate(tc.envelopes...); !errors.Is(err, tc.want) {
			t.Errorf("%s: FitsOneUpdate = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestFitsOneUpdateCountsAsTheEncoder: FitsOneUpdate, which reads only
// sizes, agrees with encoding the Update itself, across the sizes where a
// byte string's head grows and around the bound, for one envelope and
// two.
func TestFitsOneUpdateCountsAsTheEncoder(t *testing.T) {
	t.Parallel()
	sizes := []int{6, 21, 22, 23, 24, 253, 254, 255, 256, 257, 65531, 65532, 65533, 65534, 65535, 65536, 65537}
	largest := largestFitting(t)
	for d := -3; d <= 3; d++ {
		sizes = append(sizes, largest+d, (largest+d)/2)
	}
	for _, size := range sizes {
		for _, count := range []int{1, 2} {
			envs := make([][]byte, count)
			u := &Update{Token: make([]byte, MaxTokenSize)}
			for i := range envs {
				envs[i] = envelopeOf(t, size)
				u.Manifests = append(u.Manifests, Manifest{Envelope: envs[i], Tagged: true})
			}
			fits := true
			for _, n := range []Numbering{Draft26, Legacy} {
				b, err := Encode(u, n)
				if err != nil && !errors.Is(err, ErrLimit) {
					t.Fatal(err)
				}
				fits = fits && err == nil && len(b)+SignOverhead <= MaxMessageSize
			}
			if got := FitsOneUpdate(envs...) == nil; got != fits {
				t.Errorf("%d envelopes of %d bytes: FitsOneUpdate says %v, the encoder %v", count, size, got, fits)
			}
		}
	}
}

// TestSignOverhead: what Sign adds around a message's encoding, measured
// on a message at the size bound with each algorithm, is within
// SignOverhead.
func TestSignOverhead(t *testing.T) {
	t.Parallel()
	for _, alg := range SignAlgs {
		for _, size := range []int{100, MaxMessageSize - 2*SignOverhead} {
			u := &Update{Token: make([]byte, MaxTokenSize), Manifests: []Manifest{{Envelope: envelopeOf(t, size), Tagged: true}}}
			payload, err := Encode(u, Draft26)
			if err != nil {
				t.Fatal(err)
			}
			signed, err := Sign(u, Draft26, signingKey(t, alg))
			if err != nil {
				t.Fatal(err)
			}
			if over := len(signed) - len(payload); over > SignOverhead {
				t.Errorf("alg %d, %d bytes: Sign adds %d bytes, SignOverhead is %d", alg, size, over, SignOverhead)
			}
		}
	}
}
