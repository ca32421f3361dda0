// Package storetest is the one conformance suite every store.Store backend
// passes: Run drives each method of the interface through its contract
// (round-trips, the typed errors, single-use sessions under concurrency,
// the append-only audit trail) against stores the backend opens.
//
// It trusts nothing of the backend but the interface, so a new backend
// (PostgreSQL) runs it unchanged.
package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// Opener makes a new, empty store for one test and arranges its Close
// (t.Cleanup). Stores from separate calls must not share state.
type Opener func(t *testing.T) store.Store

// Run runs the conformance suite. Its subtests run in parallel, each on a
// store of its own.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name string
		run  func(*testing.T, Opener)
	}{
		{"Authors", testAuthors},
		{"Envelopes", testEnvelopes},
		{"LatestFor", testLatestFor},
		{"Payloads", testPayloads},
		{"Devices", testDevices},
		{"Sessions", testSessions},
		{"Reports", testReports},
		{"Answers", testAnswers},
		{"SessionLog", testSessionLog},
		{"Principals", testPrincipals},
		{"Tokens", testTokens},
		{"LoginSessions", testLoginSessions},
		{"Audit", testAudit},
		{"Held", testHeld},
		{"Tags", testTags},
		{"Groups", testGroups},
		{"Releases", testReleases},
		{"Rollouts", testRollouts},
		{"FleetStatus", testFleetStatus},
		{"Withdrawals", testWithdrawals},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// t0 is the suite's clock: every time is t0 plus a fixed offset.
var t0 = time.Date(2026, 12, 3, 14, 0, 0, 123456789, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// fresh opens a store for a parallel subtest.
func fresh(t *testing.T, open Opener) (context.Context, store.Store) {
	t.Helper()
	t.Parallel()
	return t.Context(), open(t)
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func cid(parts ...string) suit.ComponentID {
	c := make(suit.ComponentID, len(parts))
	for i, p := range parts {
		c[i] = []byte(p)
	}
	return c
}

// wantErr fails unless err is target (errors.Is); target nil wants no
// error.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: %v, want no error", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

// same fails unless got and want hold the same values: deeply equal, nil
// and empty slices apart, times compared as instants.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := utc(got), utc(want)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, show(g), show(w))
	}
}

// utc is a deep copy of v with every time.Time in UTC without a monotonic
// reading, so that the same instant compares equal.
func utc(v any) any {
	if v == nil {
		return nil
	}
	out := reflect.New(reflect.TypeOf(v)).Elem()
	copyUTC(out, reflect.ValueOf(v))
	return out.Interface()
}

var timeType = reflect.TypeOf(time.Time{})

func copyUTC(dst, src reflect.Value) {
	switch {
	case src.Type() == timeType:
		t := src.Interface().(time.Time)
		if !t.IsZero() {
			t = t.UTC().Round(0)
		}
		dst.Set(reflect.ValueOf(t))
	case src.Kind() == reflect.Struct:
		for i := range src.NumField() {
			copyUTC(dst.Field(i), src.Field(i))
		}
	case src.Kind() == reflect.Slice && !src.IsNil():
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			copyUTC(s.Index(i), src.Index(i))
		}
		dst.Set(s)
	default:
		dst.Set(src)
	}
}

func show(v any) string { return fmt.Sprintf("%+v", v) }
