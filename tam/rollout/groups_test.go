package rollout_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/tamtest"
)

// pagedStore is a SQLite store that records the limit of every
// DevicePage call, to prove a selector reads the fleet a page at a time.
type pagedStore struct {
	store.Store
	mu     sync.Mutex
	limits []int
}

func (s *pagedStore) DevicePage(ctx context.Context, after string, limit int) ([]store.Device, error) {
	s.mu.Lock()
	s.limits = append(s.limits, limit)
	s.mu.Unlock()
	return s.Store.DevicePage(ctx, after, limit)
}

// TestSelectorPages: a group by selector over more devices than a store
// page resolves to every matching device, those on either side of a
// page's edge included, reading the fleet one page (of store.MaxPage
// devices at most) at a time: the whole fleet never at once.
func TestSelectorPages(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sq, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	st := &pagedStore{Store: sq}
	clk := tamtest.NewClock()
	eng, err := rollout.New(rollout.Config{Store: st, Now: clk.Now, Rand: tamtest.Seeded(15)})
	if err != nil {
		t.Fatal(err)
	}
	n := 2*store.MaxPage + 1
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("%064x", i) // by ID as registered
		if err := sq.AddDevice(ctx, store.Device{ID: ids[i], Name: fmt.Sprint("d", i), AgentKey: []byte{1}, Registered: clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	edges := []int{0, store.MaxPage - 1, store.MaxPage, 2*store.MaxPage - 1, 2 * store.MaxPage}
	var edgeIDs []string
	for _, i := range edges {
		edgeIDs = append(edgeIDs, ids[i])
		if err := sq.SetTags(ctx, ids[i], []string{"edge"}); err != nil {
			t.Fatal(err)
		}
		if err := sq.RecordTCs(ctx, ids[i], []store.InstalledTC{{Component: tamtest.ID("TA", "acme", "hello"), SequenceNumber: 9}}, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		sel  store.Selector
		want []string
	}{
		{"tag", store.Selector{Tag: "edge"}, edgeIDs},
		{"version", store.Selector{Version: "9"}, edgeIDs},
		{"tag and version", store.Selector{Tag: "edge", Version: "9"}, edgeIDs},
	} {
		if _, err := eng.AddGroup(ctx, store.Group{Name: tc.name, Selector: tc.sel}); err != nil {
			t.Fatal(err)
		}
		st.mu.Lock()
		st.limits = nil
		st.mu.Unlock()
		got, err := eng.Resolve(ctx, tc.name)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.name, got, err, tc.want)
		}
		st.mu.Lock()
		limits := st.limits
		st.mu.Unlock()
		if len(limits) != 3 || slices.Max(limits) > store.MaxPage {
			t.Errorf("%s: pages of %v devices, want 3 of at most %d", tc.name, limits, store.MaxPage)
		}
	}
}
