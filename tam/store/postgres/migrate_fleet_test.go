package postgres

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
)

// A database from before the fleet status migration, holding devices with
// tc-lists and attestation results, upgrades with them counted: the
// summary of the upgraded database is the summary of the same devices
// added to a new one.
func TestOpenUpgradeCountsStoredVersions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	before := slices.IndexFunc(migrations, func(m store.Migration) bool { return strings.HasSuffix(m.Name, "_fleet_status.sql") })
	if before < 0 {
		t.Fatal("no fleet_status migration")
	}
	tc := func(seq uint64, parts ...string) store.InstalledTC {
		c := suit.ComponentID{}
		for _, p := range parts {
			c = append(c, []byte(p))
		}
		return store.InstalledTC{Component: c, SequenceNumber: seq}
	}
	seen := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	devices := []store.Device{
		{ID: "01", AgentKey: []byte{1}, LastSeen: seen, TCs: []store.InstalledTC{tc(1, "ta", "x"), tc(2, "fw"), tc(1, "ta", "x")}},
		{ID: "02", AgentKey: []byte{2}, LastError: "boom", TCs: []store.InstalledTC{tc(1, "ta", "x"), tc(math.MaxUint64, "fw")}},
		{ID: "03", AgentKey: []byte{3}, LastSeen: seen, Attestation: store.Attestation{Status: "affirming"}},
	}
	dsn := pgtest.Database(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, pool, migrations[:before]); err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		tcs, err := tcsCol(d.TCs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO devices (`+deviceCols+`) VALUES ($1, '', $2, NULL, NULL, NULL, 0, $3, $4, $5, NULL, '', $6, $7)`,
			d.ID, d.AgentKey, timeCol(d.LastSeen), timeCol(d.Attestation.Time), d.Attestation.Status, tcs, d.LastError); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()
	upgraded, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer upgraded.Close()
	fresh, err := Open(ctx, pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	for _, d := range devices {
		d.Registered = colTime(0)
		if err := fresh.AddDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := upgraded.FleetSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := fresh.FleetSummary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Versions) != 3 || got.Versions[0].Devices != 1 || got.Versions[2].Devices != 2 || len(got.ByAttestation) != 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("summary after upgrade:\n got %+v\nwant %+v", got, want)
	}
	// And the counts go on from there.
	if err := upgraded.RecordTCs(ctx, "02", nil, seen); err != nil {
		t.Fatal(err)
	}
	if got, err = upgraded.FleetSummary(ctx); err != nil || len(got.Versions) != 2 || got.Versions[1].Devices != 1 {
		t.Fatalf("summary after a tc-list changed: %+v, %v", got.Versions, err)
	}
}
