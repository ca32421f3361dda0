package auth_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// TestAuditAppendOnly: the audit trail cannot be rewritten, neither
// through the API (no route changes or deletes a row, even for an
// operator) nor by someone who opens the store's file with SQLite itself
// (the store's triggers refuse UPDATE and DELETE); the rows stay as they
// were written.
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tam.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr, err := auth.InitAdmin(ctx, st, "admin", t0, newFixture(t, auth.Config{}).rand)
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.New(auth.Config{Store: st, Now: (&clock{t: t0}).Now, Password: cheap})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	g.Register(mux)
	serve := func(method, path, body string) int {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tr.Token)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	if got := serve("POST", "/api/v1/users", `{"name":"bob","roles":["viewer"]}`); got != http.StatusCreated {
		t.Fatalf("user add: %d", got)
	}
	before, err := st.ListAudit(ctx, 0, auth.MaxAuditPage)
	if err != nil || len(before) != 2 {
		t.Fatalf("audit %+v, %v", before, err)
	}

	for _, m := range []string{"PUT", "PATCH", "DELETE", "POST"} {
		for _, p := range []string{"/api/v1/audit", "/api/v1/audit/1"} {
			if got := serve(m, p, `{"result":"ok"}`); got != http.StatusMethodNotAllowed && got != http.StatusNotFound {
				t.Errorf("%s %s: %d", m, p, got)
			}
		}
	}

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"UPDATE audit SET result = 'ok' WHERE seq = 1",
		"UPDATE audit SET principal = ''",
		"DELETE FROM audit WHERE seq = 2",
		"DELETE FROM audit",
	} {
		if _, err := db.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: the store let it through", q)
		}
	}
	after, err := st.ListAudit(ctx, 0, auth.MaxAuditPage)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("the trail changed:\nbefore %+v\nafter  %+v", before, after)
	}
	want := []struct{ action, target string }{{"init-admin", "admin"}, {auth.RouteUserAdd, "bob"}}
	for i, e := range after {
		if e.Action != want[i].action || e.Target != want[i].target || e.Result != "ok" {
			t.Errorf("row %d: %+v", i, e)
		}
	}
}
