package tam_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// TestGateWithdrawals: through the assembled TAM, a TA author's token
// withdraws its own TA only: another author's TA is refused (403), as is
// a firmware component by anyone (422), and a firmware author may not
// withdraw at all (the gate's 403). Each refusal changes nothing in the
// store and leaves one audit row saying why; the honest withdrawal leaves
// one naming the TA, and the list shows it.
func TestGateWithdrawals(t *testing.T) {
	t.Parallel()
	g := newGatedTAM(t)
	acmeTA := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	globexTA := suit.ComponentID{[]byte("TA"), []byte("globex"), []byte("tool")}

	body, ctype := publishBody(t, g.envelope(t, acmeTA, "acme"), "")
	r := httptest.NewRequest(http.MethodPost, "/api/v1/publish", body)
	r.Header.Set("Content-Type", ctype)
	r.Header.Set("Authorization", "Bearer "+g.tokens[string(store.RoleTAAuthor)])
	if resp := g.do(r); resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("publish acme's TA: %d %s", resp.StatusCode, b)
	}
	// globex has no token here: its TA goes into the store as its publish
	// would put it.
	raw := g.envelope(t, globexTA, "globex")
	sum := sha256.Sum256(raw)
	if err := g.st.PutEnvelope(context.Background(), store.Envelope{Digest: sum[:], Kind: store.TAEnvelope,
		Components: []suit.ComponentID{globexTA}, SequenceNumber: 1, Author: "globex", Raw: raw, Published: gateEpoch}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		cred      store.Role
		path      string
		component string
		wantCode  int
		wantAudit string
	}{
		{"an author withdraws another author's TA", store.RoleTAAuthor, "/api/v1/withdrawals", "TA/globex/tool",
			http.StatusForbidden, "failed: 403 outside_prefixes"},
		{"an author withdraws another author's TA, in the other form", store.RoleTAAuthor, "/api/v1/withdrawals", "['TA','globex','tool']",
			http.StatusForbidden, "failed: 403 outside_prefixes"},
		{"an operator withdraws the secure image", store.RoleOperator, "/api/v1/withdrawals", "secure",
			http.StatusUnprocessableEntity, "failed: 422 not_withdrawable"},
		{"an author withdraws the normal image", store.RoleTAAuthor, "/api/v1/withdrawals", "normal",
			http.StatusUnprocessableEntity, "failed: 422 not_withdrawable"},
		{"a firmware author withdraws a TA", store.RoleFirmwareAuthor, "/api/v1/withdrawals", "TA/acme/hello",
			http.StatusForbidden, "refused: forbidden"},
		{"a viewer withdraws a TA", store.RoleViewer, "/api/v1/withdrawals", "TA/acme/hello",
			http.StatusForbidden, "refused: forbidden"},
		{"an author withdraws its own TA", store.RoleTAAuthor, "/api/v1/withdrawals", "TA/acme/hello",
			http.StatusCreated, "ok"},
		{"another author ends that withdrawal", store.RoleTAAuthor, "/api/v1/withdrawals/cancel", "TA/globex/tool",
			http.StatusForbidden, "failed: 403 outside_prefixes"},
	}
	for _, tc := range tests {
		before := g.snapshot(t)
		b, _ := json.Marshal(catalog.WithdrawalRequest{Component: tc.component})
		r := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(string(b)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+g.tokens[string(tc.cred)])
		resp := g.do(r)
		after := g.snapshot(t)
		if resp.StatusCode != tc.wantCode {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.wantCode, b)
		}
		rows := after.Audit[len(before.Audit):]
		if len(rows) != 1 || rows[0].Principal != string(tc.cred) || !strings.HasPrefix(rows[0].Result, tc.wantAudit) {
			t.Fatalf("%s: audit rows %+v, want one %q", tc.name, rows, tc.wantAudit)
		}
		if tc.wantCode != http.StatusCreated {
			newAudit(t, before, after) // nothing else changed
			continue
		}
		if rows[0].Target != acmeTA.String() || len(after.Withdrawals) != 1 || !after.Withdrawals[0].Component.Equal(acmeTA) ||
			after.Withdrawals[0].By != string(tc.cred) {
			t.Fatalf("%s: audit %+v, withdrawals %+v", tc.name, rows[0], after.Withdrawals)
		}
	}

	r = httptest.NewRequest(http.MethodGet, "/api/v1/withdrawals", nil)
	r.Header.Set("Authorization", "Bearer "+g.tokens[string(store.RoleViewer)])
	resp := g.do(r)
	var list []catalog.WithdrawalStatusJSON
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d, %v", resp.StatusCode, err)
	}
	if len(list) != 1 || list[0].Component != acmeTA.String() || list[0].By != "ta-author" || list[0].Running == nil || list[0].RunningCount != 0 {
		t.Fatalf("list %+v", list)
	}
}
