package catalog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// withdrawRig is a rig with a TA of acme and one of globex published, and
// the secure and normal images.
func withdrawRig(t *testing.T) *rig {
	t.Helper()
	r := newRig(t)
	for _, p := range []struct {
		ctx     context.Context
		c       suit.ComponentID
		signers []*suit.SigningKey
	}{
		{as("acme", store.RoleTAAuthor), id("TA", "acme", "hello"), []*suit.SigningKey{r.signers["acme"]}},
		{as("globex", store.RoleTAAuthor), id("TA", "globex", "wallet"), []*suit.SigningKey{r.signers["globex"]}},
		{as("fw", store.RoleFirmwareAuthor), id("secure"), []*suit.SigningKey{r.signers["fw"], r.signers["op"]}},
		{as("fw", store.RoleFirmwareAuthor), id("normal"), []*suit.SigningKey{r.signers["fw"]}},
	} {
		img := []byte("image of " + p.c.String())
		if _, err := r.cat.Publish(p.ctx, catalog.Publication{Envelope: envelope(t, p.c, 1, img, p.signers...), Payloads: [][]byte{img}}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func operatorCtx() context.Context {
	return auth.WithPrincipal(context.Background(), store.Principal{Name: "ops", Roles: []store.Role{store.RoleOperator}})
}

// TestWithdraw: an operator withdraws any TA and a TA author its own;
// an author another author's TA, a firmware author, a viewer, a firmware
// component, a TA's personalization, an unpublished TA and a TA withdrawn
// already are refused, each with its typed error, and store nothing.
func TestWithdraw(t *testing.T) {
	t.Parallel()
	viewer := func() context.Context {
		return auth.WithPrincipal(context.Background(), store.Principal{Name: "eyes", Roles: []store.Role{store.RoleViewer}})
	}
	tests := []struct {
		name   string
		ctx    func() context.Context
		tc     suit.ComponentID
		want   error
		wantBy string
	}{
		{name: "an operator, any TA", ctx: operatorCtx, tc: id("TA", "globex", "wallet"), wantBy: "ops"},
		{name: "a TA author, its own TA", ctx: func() context.Context { return as("acme", store.RoleTAAuthor) },
			tc: id("TA", "acme", "hello"), wantBy: "acme-token"},

		{name: "a TA author, another author's TA", ctx: func() context.Context { return as("acme", store.RoleTAAuthor) },
			tc: id("TA", "globex", "wallet"), want: catalog.ErrOutsidePrefixes},
		{name: "a firmware author", ctx: func() context.Context { return as("fw", store.RoleFirmwareAuthor) },
			tc: id("TA", "acme", "hello"), want: catalog.ErrNotAuthor},
		{name: "an author role without its author", ctx: func() context.Context { return as("", store.RoleTAAuthor) },
			tc: id("TA", "acme", "hello"), want: catalog.ErrNotAuthor},
		{name: "a viewer", ctx: viewer, tc: id("TA", "acme", "hello"), want: catalog.ErrNotAuthor},
		{name: "no principal", ctx: context.Background, tc: id("TA", "acme", "hello"), want: catalog.ErrNotAuthor},
		{name: "the secure image, by an operator", ctx: operatorCtx, tc: id("secure"), want: catalog.ErrNotWithdrawable},
		{name: "the normal image, by an operator", ctx: operatorCtx, tc: id("normal"), want: catalog.ErrNotWithdrawable},
		{name: "the secure image, by its firmware author", ctx: func() context.Context { return as("fw", store.RoleFirmwareAuthor) },
			tc: id("secure"), want: catalog.ErrNotWithdrawable},
		{name: "a TA's personalization", ctx: operatorCtx, tc: id("TA", "acme", "hello", "personalization"), want: catalog.ErrNotWithdrawable},
		{name: "the TA namespace itself", ctx: operatorCtx, tc: id("TA", "acme"), want: catalog.ErrNotWithdrawable},
		{name: "a TA nobody published", ctx: operatorCtx, tc: id("TA", "acme", "ghost"), want: catalog.ErrUnknownTC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := withdrawRig(t)
			before := r.st.writes
			notified := len(r.notified)
			w, err := r.cat.Withdraw(tc.ctx(), tc.tc)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if all, err := r.st.ListWithdrawals(context.Background()); err != nil || len(all) != 0 || r.st.writes != before {
					t.Fatalf("a refused withdrawal stored %v (%v)", all, err)
				}
				if len(r.notified) != notified {
					t.Fatalf("a refused withdrawal woke the long polls")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !w.Component.Equal(tc.tc) || w.By != tc.wantBy || !w.Created.Equal(epoch) {
				t.Fatalf("withdrawal %+v", w)
			}
			all, err := r.st.ListWithdrawals(context.Background())
			if err != nil || len(all) != 1 || !all[0].Component.Equal(tc.tc) {
				t.Fatalf("stored %+v (%v)", all, err)
			}
			if len(r.notified) != notified+1 || r.notified[len(r.notified)-1] != "" {
				t.Fatalf("notified %q: want every device told once", r.notified[notified:])
			}
			if _, err := r.cat.Withdraw(tc.ctx(), tc.tc); !errors.Is(err, catalog.ErrExists) {
				t.Fatalf("withdrawn twice: %v, want ErrExists", err)
			}
		})
	}
}

// TestCancelWithdrawal: the end of a withdrawal follows the rule of who
// may withdraw; a TA not withdrawn is ErrNotWithdrawn.
func TestCancelWithdrawal(t *testing.T) {
	t.Parallel()
	r := withdrawRig(t)
	acmeCtx := as("acme", store.RoleTAAuthor)
	globexCtx := as("globex", store.RoleTAAuthor)
	hello := id("TA", "acme", "hello")
	if _, err := r.cat.Withdraw(acmeCtx, hello); err != nil {
		t.Fatal(err)
	}
	if _, err := r.cat.CancelWithdrawal(globexCtx, hello); !errors.Is(err, catalog.ErrOutsidePrefixes) {
		t.Fatalf("another author ends acme's withdrawal: %v", err)
	}
	if _, err := r.cat.CancelWithdrawal(operatorCtx(), id("TA", "globex", "wallet")); !errors.Is(err, catalog.ErrNotWithdrawn) {
		t.Fatalf("end of a withdrawal never made: %v", err)
	}
	if _, err := r.cat.CancelWithdrawal(operatorCtx(), id("secure")); !errors.Is(err, catalog.ErrNotWithdrawable) {
		t.Fatalf("end of a firmware withdrawal: %v", err)
	}
	w, err := r.cat.CancelWithdrawal(operatorCtx(), hello)
	if err != nil || !w.Component.Equal(hello) || w.By != "acme-token" {
		t.Fatalf("cancel: %+v, %v", w, err)
	}
	if _, err := r.cat.CancelWithdrawal(operatorCtx(), hello); !errors.Is(err, catalog.ErrNotWithdrawn) {
		t.Fatalf("cancel twice: %v", err)
	}
	if all, err := r.cat.Withdrawals(context.Background()); err != nil || len(all) != 0 {
		t.Fatalf("withdrawals after the cancel: %+v, %v", all, err)
	}
}

// TestWithdrawalsRunning: the list says which devices still run each
// withdrawn TA, from their last tc-lists.
func TestWithdrawalsRunning(t *testing.T) {
	t.Parallel()
	r := withdrawRig(t)
	ctx := context.Background()
	hello := id("TA", "acme", "hello")
	for _, d := range []struct {
		id  string
		tcs []store.InstalledTC
	}{
		{"aa", []store.InstalledTC{{Component: hello, SequenceNumber: 1}, {Component: id("secure"), SequenceNumber: 1}}},
		{"bb", []store.InstalledTC{{Component: id("secure"), SequenceNumber: 1}}},
		{"cc", []store.InstalledTC{{Component: id("TA", "globex", "wallet"), SequenceNumber: 1}, {Component: hello, SequenceNumber: 1}}},
	} {
		if err := r.st.AddDevice(ctx, store.Device{ID: d.id, AgentKey: []byte("k"), Registered: epoch}); err != nil {
			t.Fatal(err)
		}
		if err := r.st.RecordTCs(ctx, d.id, d.tcs, epoch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.cat.Withdraw(operatorCtx(), hello); err != nil {
		t.Fatal(err)
	}
	all, err := r.cat.Withdrawals(ctx)
	if err != nil || len(all) != 1 || all[0].Running != 2 || strings.Join(all[0].RunningIDs, ",") != "aa,cc" {
		t.Fatalf("withdrawals %+v, %v: want hello running on aa and cc", all, err)
	}
	// cc's next tc-list has no hello: the withdrawal is done there.
	if err := r.st.RecordTCs(ctx, "cc", []store.InstalledTC{{Component: id("TA", "globex", "wallet"), SequenceNumber: 1}}, epoch); err != nil {
		t.Fatal(err)
	}
	if all, err = r.cat.Withdrawals(ctx); err != nil || all[0].Running != 1 || strings.Join(all[0].RunningIDs, ",") != "aa" {
		t.Fatalf("withdrawals %+v, %v: want hello running on aa alone", all, err)
	}
}

// TestWithdrawalsRunningPaged: over more devices than one store page, every
// device running the TA is counted once, and MaxRunningListed of them are
// named, by ID.
func TestWithdrawalsRunningPaged(t *testing.T) {
	t.Parallel()
	r := withdrawRig(t)
	ctx := context.Background()
	hello := id("TA", "acme", "hello")
	const devices = store.MaxPage + 3
	running := 0
	for i := range devices {
		d := fmt.Sprintf("%04x", i)
		var tcs []store.InstalledTC
		if i%2 == 0 || i >= store.MaxPage {
			tcs = []store.InstalledTC{{Component: hello, SequenceNumber: 1}}
			running++
		}
		if err := r.st.AddDevice(ctx, store.Device{ID: d, AgentKey: []byte("k"), Registered: epoch, TCs: tcs}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.cat.Withdraw(operatorCtx(), hello); err != nil {
		t.Fatal(err)
	}
	all, err := r.cat.Withdrawals(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("withdrawals %+v, %v", all, err)
	}
	if all[0].Running != running || len(all[0].RunningIDs) != catalog.MaxRunningListed ||
		all[0].RunningIDs[0] != "0000" || all[0].RunningIDs[1] != "0002" {
		t.Fatalf("running %d (want %d), named %d: %v", all[0].Running, running, len(all[0].RunningIDs), all[0].RunningIDs[:3])
	}
}

// FuzzWithdrawalBody: whatever the body, ReadWithdrawal answers a
// component ID within the bounds or a typed refusal (400 or 413), never a
// panic.
func FuzzWithdrawalBody(f *testing.F) {
	f.Add([]byte(`{"component":"TA/acme/hello"}`))
	f.Add([]byte(`{"component":"['TA','acme','hello']"}`))
	f.Add([]byte(`{"component":"['TA',00ff]"}`))
	f.Add([]byte(`{"component":""}`))
	f.Add([]byte(`{"component":"TA//x"}{}`))
	f.Add([]byte(`{"component":"TA/acme/hello","extra":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/withdrawals", bytes.NewReader(body))
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, catalog.MaxWithdrawalBody)
		tc, err := catalog.ReadWithdrawal(req)
		if err != nil {
			if status, _ := catalog.StatusOf(err); status != 400 && status != 413 {
				t.Fatalf("status %d for %v", status, err)
			}
			return
		}
		if len(tc) == 0 || len(tc.String()) > 4*catalog.MaxWithdrawalBody {
			t.Fatalf("component %s from %d bytes", tc, len(body))
		}
	})
}
