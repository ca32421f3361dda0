package attest

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/veraison/go-cose"

	"github.com/teeup/teeup/attest/eventlog"
)

// testClock is a fixed clock a test moves by hand.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// verifyRig is one registered device with a simulated TPM, and a verifier
// that knows it.
type verifyRig struct {
	tpm      *simTPM
	key      *ecdsa.PrivateKey // the device's attestation key (EAT)
	clock    *testClock
	verifier *Verifier
}

func newVerifyRig(t *testing.T) *verifyRig {
	t.Helper()
	tpm := openTPM(t, 1)
	key := testKey(t, 1)
	clock := &testClock{now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	return &verifyRig{
		tpm: tpm, key: key, clock: clock,
		verifier: &Verifier{
			Endorsements: Endorsements{{UEID: testClaims().UEID, OEMID: testClaims().OEMID, HWModel: testClaims().HWModel,
				AttestationKey: &key.PublicKey, TPMKey: tpm.AK(t)}},
			Nonces: &NonceStore{Now: clock.Now, Rand: rand.New(rand.NewSource(1))},
		},
	}
}

// honest is the evidence of a device that booted what its claims say,
// answering a nonce the verifier issued.
func (r *verifyRig) honest(t *testing.T) (*Claims, eventlog.Log, *Evidence) {
	t.Helper()
	c := testClaims()
	nonce, err := r.verifier.Nonces.Issue()
	if err != nil {
		t.Fatal(err)
	}
	c.Nonce = nonce
	log := testLog(c)
	r.tpm.boot(t, log)
	ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), log)
	if err != nil {
		t.Fatal(err)
	}
	return c, log, ev
}

func TestVerifyHonest(t *testing.T) {
	r := newVerifyRig(t)
	c, log, ev := r.honest(t)
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := DecodeEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.verifier.Verify(decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Claims, c) || !reflect.DeepEqual(v.EventLog, log) || v.Device != &r.verifier.Endorsements[0] {
		t.Errorf("verified %+v", v)
	}
	if a := Appraise(v, testReference(c), Policy{}); !a.Trustworthy() {
		t.Errorf("appraisal %v: %+v", a.Status, a.Reasons)
	}
}

// signRaw signs a claims set as the device would, without the encoder's
// checks, for claims the encoder refuses to write.
func signRaw(t *testing.T, key *ecdsa.PrivateKey, payload []byte) []byte {
	t.Helper()
	signer, err := cose.NewSigner(cose.AlgorithmES256, key)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(cose.AlgorithmES256)
	msg.Payload = payload
	if err := msg.Sign(nil, nil, signer); err != nil {
		t.Fatal(err)
	}
	b, err := msg.MarshalCBOR()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyRefuses: each attack, from the position of whoever holds the
// evidence on its way (the normal world, the network), or of a device
// that booted something else, fails with its reason.
func TestVerifyRefuses(t *testing.T) {
	r := newVerifyRig(t)
	other := testKey(t, 2)
	for _, tc := range []struct {
		name string
		// make builds the evidence, with the rig's verifier to change.
		make func(t *testing.T, v *Verifier) *Evidence
		want error
	}{
		{"nonce reused", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			if _, err := v.Verify(ev); err != nil {
				t.Fatalf("first use: %v", err)
			}
			return ev
		}, ErrNonce},
		{"nonce stale", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			r.clock.now = r.clock.now.Add(DefaultNonceTTL)
			return ev
		}, ErrNonce},
		{"nonce never issued", func(t *testing.T, v *Verifier) *Evidence {
			c := testClaims() // its own nonce, not the verifier's
			r.tpm.boot(t, testLog(c))
			ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), testLog(c))
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrNonce},
		{"nonce missing", func(t *testing.T, v *Verifier) *Evidence {
			c, _, ev := r.honest(t)
			payload, err := encodePayload(c)
			if err != nil {
				t.Fatal(err)
			}
			// The same claims without eat_nonce (key 10, the first, one
			// byte 0x0A then a 32-byte bstr: 0x58 0x20 and the nonce).
			cut := append([]byte{payload[0] - 1}, payload[1+1+2+len(c.Nonce):]...)
			ev.EAT = signRaw(t, r.key, cut)
			s := SignedEAT{Payload: cut}
			ev.Quote = r.tpm.quote(t, s.QuoteData(), eventlog.MeasurementPCR)
			return ev
		}, ErrNonce},
		{"signed by another device's key", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			ev, err := NewEvidence(c, other, r.tpm.quoteFunc(t), log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrSignature},
		{"unregistered device", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			c.UEID = append([]byte{0x01}, bytes.Repeat([]byte{0x99}, 16)...)
			ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrUnregistered},
		{"quote by another TPM", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			v.Endorsements[0].TPMKey = &other.PublicKey
			return ev
		}, ErrQuote},
		{"quote of another EAT", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			_, _, ev2 := r.honest(t)
			ev.Quote = ev2.Quote
			return ev
		}, ErrQuote},
		{"quote over other PCR values", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			// The device booted another secure image than it logs and claims.
			actual := testLog(c)
			actual[1].Digest = digest("a secure image no author published")
			r.tpm.boot(t, actual)
			ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrEventLog},
		{"log edited to hide an image", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			ev.EventLog = ev.EventLog[:2] // the normal image's events gone
			return ev
		}, ErrEventLog},
		{"log edited to swap an image", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			ev.EventLog = bytes2log(ev.EventLog)
			ev.EventLog[3].Digest = digest("another normal image")
			return ev
		}, ErrEventLog},
		{"log reordered", func(t *testing.T, v *Verifier) *Evidence {
			_, _, ev := r.honest(t)
			ev.EventLog = bytes2log(ev.EventLog)
			ev.EventLog[0], ev.EventLog[2] = ev.EventLog[2], ev.EventLog[0]
			return ev
		}, ErrEventLog},
		{"EAT claims an image the device did not boot", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			c.Components[0].Digest = digest("the image the device would like to have booted")
			ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrMeasurements},
		{"EAT hides a booted image", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			c.Components = c.Components[:1]
			ev, err := NewEvidence(c, r.key, r.tpm.quoteFunc(t), log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrMeasurements},
		{"quote without the measurement PCR", func(t *testing.T, v *Verifier) *Evidence {
			c, log, _ := r.honest(t)
			ev, err := NewEvidence(c, r.key, func(d []byte) (Quote, error) { return r.tpm.quote(t, d, 1), nil }, log)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}, ErrQuote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := *r.verifier
			saved.Endorsements = append(Endorsements(nil), r.verifier.Endorsements...)
			savedNow := r.clock.now
			defer func() { *r.verifier = saved; r.clock.now = savedNow }()
			ev := tc.make(t, r.verifier)
			v, err := r.verifier.Verify(ev)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrRejected) || v != nil {
				t.Errorf("Verify: %v, %v; want %v", v, err, tc.want)
			}
		})
	}
}

// bytes2log copies a log so that a test edits its own.
func bytes2log(l eventlog.Log) eventlog.Log {
	out := make(eventlog.Log, len(l))
	for i, e := range l {
		e.Digest = bytes.Clone(e.Digest)
		out[i] = e
	}
	return out
}

func TestNonceStore(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Unix(1000, 0)}
	s := &NonceStore{Now: clock.Now, Rand: rand.New(rand.NewSource(1)), TTL: time.Minute}
	n, err := s.Issue()
	if err != nil || len(n) != NonceSize {
		t.Fatalf("issue: %x, %v", n, err)
	}
	clock.now = clock.now.Add(59 * time.Second)
	if err := s.Consume(n); err != nil {
		t.Fatalf("within its TTL: %v", err)
	}
	if err := s.Consume(n); !errors.Is(err, ErrNonce) {
		t.Errorf("second use: %v", err)
	}
	n2, _ := s.Issue()
	clock.now = clock.now.Add(time.Minute)
	if err := s.Consume(n2); !errors.Is(err, ErrNonce) {
		t.Errorf("expired: %v", err)
	}
	if err := s.Consume(nil); !errors.Is(err, ErrNonce) {
		t.Errorf("missing: %v", err)
	}
}
