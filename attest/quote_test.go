package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-tpm/tpm2"

	"github.com/teeup/teeup/attest/eventlog"
)

func TestVerifyQuote(t *testing.T) {
	tpm := openTPM(t, 1)
	ak := tpm.AK(t)
	log := testLog(testClaims())
	tpm.boot(t, log)
	data := digest("qualifying data")
	q := tpm.quote(t, data, 0, 5)
	vq, err := VerifyQuote(q, ak)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vq.ExtraData, data) || !reflect.DeepEqual(vq.PCRs, []int{0, 5}) {
		t.Errorf("quote %+v", vq)
	}
	// PCR 5 is not in the log, so it replays to its reset value, zero.
	if err := checkReplay(vq, log); err != nil {
		t.Errorf("replay: %v", err)
	}
	want := sha256.Sum256(append(log.Replay(0), make([]byte, 32)...))
	if !bytes.Equal(vq.PCRDigest, want[:]) {
		t.Errorf("PCR digest %x, want %x", vq.PCRDigest, want)
	}

	other := testKey(t, 2)
	notQuote := tpm2.Marshal(&tpm2.TPMSAttest{Magic: tpm2.TPMGeneratedValue, Type: tpm2.TPMSTAttestTime,
		Attested: tpm2.NewTPMUAttest(tpm2.TPMSTAttestTime, &tpm2.TPMSTimeAttestInfo{})})
	for _, tc := range []struct {
		name string
		q    Quote
		ak   *ecdsa.PublicKey
	}{
		{"another TPM's key", q, &other.PublicKey},
		{"tampered", Quote{Attest: append(bytes.Clone(q.Attest[:len(q.Attest)-1]), q.Attest[len(q.Attest)-1]^1), Signature: q.Signature}, ak},
		{"trailing byte", Quote{Attest: append(bytes.Clone(q.Attest), 0), Signature: q.Signature}, ak},
		{"empty", Quote{}, ak},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := VerifyQuote(tc.q, tc.ak); !errors.Is(err, ErrQuote) {
				t.Errorf("err %v, want ErrQuote", err)
			}
		})
	}
	if _, err := parseQuote(notQuote); !errors.Is(err, ErrQuote) {
		t.Errorf("a time attestation: %v", err)
	}
	if err := checkReplay(&VerifiedQuote{PCRs: []int{1}, PCRDigest: vq.PCRDigest}, log); !errors.Is(err, ErrQuote) {
		t.Errorf("measurement PCR not quoted: %v", err)
	}
	if err := checkReplay(&VerifiedQuote{PCRs: []int{0}, PCRDigest: vq.PCRDigest}, append(bytes2log(log), eventlog.Event{PCR: 3, Component: "x", Kind: eventlog.KindImage, Digest: data})); !errors.Is(err, ErrEventLog) {
		t.Errorf("log extends an unquoted PCR: %v", err)
	}
}

func FuzzParseQuote(f *testing.F) {
	f.Add(tpm2.Marshal(&tpm2.TPMSAttest{Magic: tpm2.TPMGeneratedValue, Type: tpm2.TPMSTAttestQuote,
		ExtraData: tpm2.TPM2BData{Buffer: digest("x")},
		Attested: tpm2.NewTPMUAttest(tpm2.TPMSTAttestQuote, &tpm2.TPMSQuoteInfo{
			PCRSelect: tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{Hash: tpm2.TPMAlgSHA256, PCRSelect: []byte{1, 0, 0}}}},
			PCRDigest: tpm2.TPM2BDigest{Buffer: digest("pcrs")}})}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > MaxQuoteAttest {
			return
		}
		vq, err := parseQuote(b)
		if err != nil {
			if !errors.Is(err, ErrQuote) {
				t.Fatalf("refusal not ErrQuote: %v", err)
			}
			return
		}
		if len(vq.PCRs) == 0 {
			t.Fatalf("a quote over no PCR parsed")
		}
		_ = checkReplay(vq, nil)
	})
}
