package attest

import (
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/veraison/ear"

	"github.com/teeup/teeup/attest/comid"
)

// testReference publishes every component of testClaims at its sequence
// number, and the version before it.
func testReference(c *Claims) *comid.ReferenceValues {
	r := &comid.ReferenceValues{Class: comid.Class{OEMID: c.OEMID, HWModel: c.HWModel}}
	for _, m := range c.Components {
		r.Add(
			comid.Reference{Component: m.Name, Kind: m.Kind.String(), SequenceNumber: m.Sequence - 1,
				Digest: digest("old " + m.Name), ManifestDigest: digest("old manifest " + m.Name), Signers: []comid.Hex{m.Signer}},
			comid.Reference{Component: m.Name, Kind: m.Kind.String(), SequenceNumber: m.Sequence,
				Digest: m.Digest, ManifestDigest: m.ManifestDigest, Signers: []comid.Hex{m.Signer}})
	}
	return r
}

func testVerified(c *Claims) *Verified {
	return &Verified{Claims: c, Device: &Endorsement{UEID: c.UEID, OEMID: c.OEMID, HWModel: c.HWModel}, EventLog: testLog(c)}
}

var testResultOptions = ResultOptions{Build: "teeup-test", Developer: "teeup", Now: func() time.Time { return time.Date(2025, 12, 3, 12, 0, 0, 0, time.UTC) }}

func TestAppraise(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		edit      func(c *Claims, r *comid.ReferenceValues, p *Policy)
		claim     string
		value     ear.TrustClaim
		component string
		want      error
	}{
		{"trustworthy", func(*Claims, *comid.ReferenceValues, *Policy) {}, "", 0, "", nil},
		{"TA digest no author published", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[2].Digest = digest("a TA nobody published")
		}, "executables", ear.UnrecognizedRuntimeClaim, "['ta','01']", comid.ErrDigest},
		{"image digest no author published", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[1].Digest = digest("a normal image nobody published")
		}, "executables", ear.UnrecognizedRuntimeClaim, "['normal']", comid.ErrDigest},
		{"TA no author published at all", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[2].Name = "['ta','ff']"
		}, "executables", ear.UnrecognizedRuntimeClaim, "['ta','ff']", comid.ErrUnknownComponent},
		{"signer not the author's", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[0].Signer = digest("someone else")
		}, "executables", ear.UnrecognizedRuntimeClaim, "['secure']", comid.ErrSigner},
		{"image below the reference version", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[0].Sequence -= 2 // below both published versions
		}, "executables", ear.ContraindicatedRuntimeClaim, "['secure']", comid.ErrBelowReference},
		{"image version no author published", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Components[0].Sequence++
		}, "executables", ear.UnrecognizedRuntimeClaim, "['secure']", comid.ErrUnpublishedVersion},
		{"old image still supported", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			m := &c.Components[0]
			m.Sequence--
			m.Digest, m.ManifestDigest = digest("old "+m.Name), digest("old manifest "+m.Name)
		}, "", 0, "", nil},
		{"debug enabled, forbidden", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.Debug = DebugEnabled
		}, "configuration", ear.UnsupportableConfigClaim, "", ErrDebugForbidden},
		{"debug enabled, allowed", func(c *Claims, _ *comid.ReferenceValues, p *Policy) {
			c.Debug = DebugEnabled
			p.AllowDebugInsecure = true
		}, "", 0, "", nil},
		{"other hardware model", func(c *Claims, _ *comid.ReferenceValues, _ *Policy) {
			c.HWModel = []byte("another board")
		}, "hardware", ear.UnrecognizedHardwareClaim, "", ErrHardware},
		{"another class than the reference values'", func(c *Claims, r *comid.ReferenceValues, _ *Policy) {
			r.Class.HWModel = []byte("another board")
		}, "hardware", ear.UnrecognizedHardwareClaim, "", ErrHardware},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := testClaims()
			v := testVerified(testClaims())
			r := testReference(c)
			var p Policy
			tc.edit(v.Claims, r, &p)
			a := Appraise(v, r, p)
			if tc.want == nil {
				if !a.Trustworthy() || len(a.Reasons) != 0 {
					t.Fatalf("status %v, reasons %+v", a.Status, a.Reasons)
				}
			} else {
				if a.Trustworthy() || len(a.Reasons) != 1 {
					t.Fatalf("status %v, reasons %+v", a.Status, a.Reasons)
				}
				r := a.Reasons[0]
				if r.Claim != tc.claim || r.Value != tc.value || r.Component != tc.component || !errors.Is(r.Err, tc.want) {
					t.Errorf("reason %+v, want %s=%v on %q: %v", r, tc.claim, tc.value, tc.component, tc.want)
				}
				if got := a.Vector.AsMap()[tc.claim]; got != tc.value {
					t.Errorf("vector %s = %v, want %v", tc.claim, got, tc.value)
				}
			}
			// The EAR says the same, signed.
			key := testKey(t, 9)
			jwt, err := a.EAR(key, testResultOptions)
			if err != nil {
				t.Fatal(err)
			}
			var ar ear.AttestationResult
			if err := ar.Verify(jwt, jwa.ES256(), &key.PublicKey); err != nil {
				t.Fatal(err)
			}
			sub := ar.Submods[EARSubmod]
			if *sub.Status != a.Status || *sub.TrustVector != a.Vector {
				t.Errorf("EAR status %v vector %+v, appraisal %v %+v", *sub.Status, *sub.TrustVector, a.Status, a.Vector)
			}
			reasons, _ := (*orEmpty(sub.VeraisonPolicyClaims))["teeup.reasons"].([]any)
			if len(reasons) != len(a.Reasons) {
				t.Errorf("EAR reasons %v, want %d", reasons, len(a.Reasons))
			}
			if err := ar.Verify(jwt, jwa.ES256(), &testKey(t, 8).PublicKey); err == nil {
				t.Errorf("EAR verifies under another key")
			}
		})
	}
}

func orEmpty(m *map[string]any) *map[string]any {
	if m == nil {
		return &map[string]any{}
	}
	return m
}

// TestRefusalEAR: a refused evidence gets a contraindicated result that
// names the refused claim and the reason.
func TestRefusalEAR(t *testing.T) {
	t.Parallel()
	key := testKey(t, 9)
	for _, tc := range []struct {
		err   error
		claim string
		value ear.TrustClaim
	}{
		{ErrUnregistered, "instance-identity", ear.UnrecognizedInstanceClaim},
		{ErrSignature, "instance-identity", ear.CryptoValidationFailedClaim},
		{ErrEventLog, "executables", ear.CryptoValidationFailedClaim},
		{ErrNonce, "instance-identity", ear.UnexpectedEvidenceClaim},
	} {
		jwt, err := RefusalEAR(tc.err, key, testResultOptions)
		if err != nil {
			t.Fatal(err)
		}
		var ar ear.AttestationResult
		if err := ar.Verify(jwt, jwa.ES256(), &key.PublicKey); err != nil {
			t.Fatal(err)
		}
		sub := ar.Submods[EARSubmod]
		if *sub.Status != ear.TrustTierContraindicated || sub.TrustVector.AsMap()[tc.claim] != tc.value {
			t.Errorf("%v: status %v vector %+v", tc.err, *sub.Status, *sub.TrustVector)
		}
	}
}
