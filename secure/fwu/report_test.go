package fwu_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/fwu/fwutest"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// TestRefusalReports refuses an update through the device's update service
// for each class of refusal and builds the SUIT report from what the
// service returns: each carries its own result code and reason, an
// authorization refusal component-unauthorised (33) rather than a generic
// refusal (1, operation-failed), and the report survives encoding.
func TestRefusalReports(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		refuse  func(r *rig) error
		want    error
		code    int64
		reason  suit.ReportReason
		command string // the command the report's result names, if any
	}{
		{"signature: a key the device does not trust", func(r *rig) error {
			stranger, err := suit.GenerateSigningKey(suit.AlgES256)
			if err != nil {
				t.Fatal(err)
			}
			env := fwutest.Envelope(t, boot.Normal, 2, fwutest.BuiltinImage(boot.Normal, 2, 500), stranger)
			_, _, err = r.svc.StartUpdate(ctx, env)
			return err
		}, suit.ErrBadSignature, 30, suit.ReasonUnauthorised, ""},
		{"digest: the manifest altered after signing", func(r *rig) error {
			env := bytes.Clone(r.release(boot.Normal, 2).Envelope)
			env[len(env)/2] ^= 1
			_, _, err := r.svc.StartUpdate(ctx, env)
			return err
		}, suit.ErrDigestMismatch, 32, suit.ReasonUnauthorised, ""},
		{"authorization: a TA author signs the normal image", func(r *rig) error {
			env := fwutest.Envelope(t, boot.Normal, 2, fwutest.BuiltinImage(boot.Normal, 2, 500), r.signers.TAAuthors["acme"])
			_, _, err := r.svc.StartUpdate(ctx, env)
			return err
		}, keys.ErrUnauthorized, 33, suit.ReasonComponentUnauthorised, ""},
		{"rollback: an older sequence number", func(r *rig) error {
			if _, err := r.update([]boot.Staged{r.release(boot.Normal, 3)}, 1000); err != nil {
				t.Fatal(err)
			}
			r.reboot()
			if err := r.svc.Accept(ctx); err != nil {
				t.Fatal(err)
			}
			_, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 2).Envelope)
			return err
		}, suit.ErrRollback, 40, suit.ReasonConditionFailed, ""},
		{"digest: the payload is not the image signed", func(r *rig) error {
			rel := r.release(boot.Normal, 2)
			rel.Image = bytes.Clone(rel.Image)
			rel.Image[9] ^= 1
			_, err := r.update([]boot.Staged{rel}, 1000)
			return err
		}, suit.ErrImageMismatch, 44, suit.ReasonConditionFailed, "condition-image-match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			err := tc.refuse(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("refused with %v, want %v", err, tc.want)
			}
			var refused *fwu.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("%v carries no outcome", err)
			}
			if r.svc.LastOutcome() != refused.Outcome {
				t.Error("LastOutcome is not the refusal's")
			}
			report := refused.Outcome.Report(suit.ReportOptions{Nonce: []byte("n")})
			back, perr := suit.ParseReport(report.Encode())
			if perr != nil {
				t.Fatalf("the report does not parse back: %v", perr)
			}
			res := back.Result
			if res == nil || res.Code != tc.code || res.Reason != tc.reason {
				t.Fatalf("report result %+v, want code %d reason %s", res, tc.code, tc.reason)
			}
			if tc.command != "" {
				if rec := res.Record; rec.Section != suit.KeyInstall {
					t.Errorf("the result names section %d, want install (%d)", rec.Section, suit.KeyInstall)
				}
			}
		})
	}
}
