package attest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestEndorsementsRoundTrip(t *testing.T) {
	t.Parallel()
	c := testClaims()
	es := Endorsements{{UEID: c.UEID, OEMID: c.OEMID, HWModel: c.HWModel, AttestationKey: &testKey(t, 1).PublicKey, TPMKey: &testKey(t, 2).PublicKey}}
	b, err := MarshalEndorsements(es)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseEndorsements(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, es) {
		t.Errorf("got %+v", got)
	}
	twice := strings.Replace(string(b), `"devices": [`, `"devices": [`+strings.TrimSpace(strings.SplitN(strings.SplitN(string(b), "[", 2)[1], "]", 2)[0])+",", 1)
	for name, doc := range map[string]string{
		"unknown field":    `{"devices": [], "extra": 1}`,
		"trailing":         `{"devices": []} {}`,
		"not a key":        `{"devices": [{"ueid": "0142424242424242", "attestation_key": "x", "tpm_attestation_key": "x"}]}`,
		"registered twice": twice,
	} {
		if _, err := ParseEndorsements([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestReferenceValuesRoundTrip(t *testing.T) {
	t.Parallel()
	r := testReference(testClaims())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseReferenceValues(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("got %+v", got)
	}
	for name, doc := range map[string]string{
		"unknown field": `{"components": [], "extra": 1}`,
		"unknown kind":  `{"components": [{"name": "x", "kind": "config"}]}`,
		"bad hex":       `{"components": [{"name": "x", "kind": "ta", "versions": [{"digest": "zz"}]}]}`,
	} {
		if _, err := ParseReferenceValues([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
