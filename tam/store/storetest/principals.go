package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/store"
)

func principal(name string, roles ...store.Role) store.Principal {
	return store.Principal{Name: name, Roles: roles, Created: at(1)}
}

func testPrincipals(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		author := principal("acme-ci", store.RoleTAAuthor, store.RoleViewer)
		author.Author = "acme"
		admin := principal("admin", store.RoleOperator)
		admin.PasswordHash = []byte("$argon2id$v=19$...")
		empty := principal("nobody")
		empty.Roles, empty.PasswordHash = []store.Role{}, []byte{}
		bare := store.Principal{Name: "z"}
		ps := []store.Principal{author, admin, empty, bare} // by name
		for _, p := range []store.Principal{bare, admin, author, empty} {
			wantErr(t, "add "+p.Name, s.AddPrincipal(ctx, p), nil)
		}
		for _, p := range ps {
			got, err := s.Principal(ctx, p.Name)
			wantErr(t, "principal", err, nil)
			same(t, "principal "+p.Name, got, p)
		}
		all, err := s.ListPrincipals(ctx)
		wantErr(t, "list", err, nil)
		same(t, "list", all, ps)
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add", s.AddPrincipal(ctx, principal("admin", store.RoleOperator)), nil)
		wantErr(t, "add again", s.AddPrincipal(ctx, principal("admin", store.RoleViewer)), store.ErrExists)
		got, err := s.Principal(ctx, "admin")
		wantErr(t, "principal", err, nil)
		same(t, "after refused add", got, principal("admin", store.RoleOperator))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Principal(ctx, "nobody")
		wantErr(t, "principal", err, store.ErrNotFound)
		wantErr(t, "set password", s.SetPassword(ctx, "nobody", []byte("h")), store.ErrNotFound)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		for _, tc := range []struct {
			name string
			p    store.Principal
		}{
			{"empty name", principal("", store.RoleViewer)},
			{"unknown role", principal("eve", "root")},
			{"name not UTF-8", principal("\xff")},
			{"author too long", store.Principal{Name: "a", Author: strings.Repeat("a", store.MaxKey+1)}},
			{"password hash over MaxText", store.Principal{Name: "a", PasswordHash: make([]byte, store.MaxText+1)}},
		} {
			wantErr(t, tc.name, s.AddPrincipal(ctx, tc.p), store.ErrInvalid)
		}
		all, err := s.ListPrincipals(ctx)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("refused principals were stored: %v", all)
		}
		wantErr(t, "add", s.AddPrincipal(ctx, principal("admin")), nil)
		wantErr(t, "set long password", s.SetPassword(ctx, "admin", make([]byte, store.MaxText+1)), store.ErrInvalid)
	})
	t.Run("SetPassword", func(t *testing.T) {
		ctx, s := fresh(t, open)
		want := principal("admin", store.RoleOperator)
		wantErr(t, "add", s.AddPrincipal(ctx, want), nil)
		wantErr(t, "add other", s.AddPrincipal(ctx, principal("other")), nil)
		for _, hash := range [][]byte{[]byte("hash-1"), []byte("hash-2"), nil, {}} {
			wantErr(t, "set password", s.SetPassword(ctx, "admin", hash), nil)
			want.PasswordHash = hash
			got, err := s.Principal(ctx, "admin")
			wantErr(t, "principal", err, nil)
			same(t, fmt.Sprintf("after setting %q", hash), got, want)
		}
		other, err := s.Principal(ctx, "other")
		wantErr(t, "other", err, nil)
		same(t, "the other principal", other, principal("other"))
	})
}

func token(id, principal string, created time.Duration) store.Token {
	return store.Token{ID: id, Principal: principal, Hash: sum([]byte("secret-" + id)), Created: at(created), Expires: at(created + time.Hour)}
}

func testTokens(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("ci")), nil)
		a2, a1, c1 := token("a2", "admin", 2), token("a1", "admin", 1), token("c1", "ci", 1)
		never := store.Token{ID: "a3", Principal: "admin", Hash: []byte{1}, Created: at(2)} // no expiry
		for _, tk := range []store.Token{a2, a1, c1, never} {
			wantErr(t, "add "+tk.ID, s.AddToken(ctx, tk), nil)
			got, err := s.TokenByHash(ctx, tk.Hash)
			wantErr(t, "by hash", err, nil)
			same(t, "token "+tk.ID, got, tk)
		}
		for _, tc := range []struct {
			principal string
			want      []store.Token
		}{
			{"admin", []store.Token{a1, a2, never}},
			{"ci", []store.Token{c1}},
			{"", []store.Token{a1, c1, a2, never}},
		} {
			got, err := s.ListTokens(ctx, tc.principal)
			wantErr(t, "list", err, nil)
			same(t, "tokens of "+tc.principal, got, tc.want)
		}
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		first := token("t1", "admin", 1)
		wantErr(t, "add", s.AddToken(ctx, first), nil)
		sameID := token("t1", "admin", 2)
		sameID.Hash = sum([]byte("another secret"))
		wantErr(t, "same id", s.AddToken(ctx, sameID), store.ErrExists)
		sameHash := token("t2", "admin", 2)
		sameHash.Hash = first.Hash
		wantErr(t, "same hash", s.AddToken(ctx, sameHash), store.ErrExists)
		got, err := s.ListTokens(ctx, "")
		wantErr(t, "list", err, nil)
		same(t, "after refused adds", got, []store.Token{first})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add for nobody", s.AddToken(ctx, token("t1", "nobody", 1)), store.ErrNotFound)
		_, err := s.TokenByHash(ctx, token("t1", "nobody", 1).Hash)
		wantErr(t, "by hash", err, store.ErrNotFound)
		wantErr(t, "revoke", s.RevokeToken(ctx, "t1", at(5)), store.ErrNotFound)
		got, err := s.ListTokens(ctx, "nobody")
		wantErr(t, "list", err, nil)
		if len(got) != 0 {
			t.Fatalf("tokens of nobody: %v", got)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		for _, tc := range []struct {
			name string
			tk   store.Token
		}{
			{"no id", store.Token{Principal: "admin", Hash: []byte{1}}},
			{"no principal", store.Token{ID: "t", Hash: []byte{1}}},
			{"no hash", store.Token{ID: "t", Principal: "admin"}},
			{"hash too long", store.Token{ID: "t", Principal: "admin", Hash: make([]byte, store.MaxKey+1)}},
		} {
			wantErr(t, tc.name, s.AddToken(ctx, tc.tk), store.ErrInvalid)
		}
		wantErr(t, "add", s.AddToken(ctx, token("t1", "admin", 1)), nil)
		wantErr(t, "revoke at zero", s.RevokeToken(ctx, "t1", time.Time{}), store.ErrInvalid)
		got, err := s.ListTokens(ctx, "")
		wantErr(t, "list", err, nil)
		same(t, "after refused changes", got, []store.Token{token("t1", "admin", 1)})
	})
	t.Run("Revoke", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		for _, id := range []string{"t1", "t2"} {
			wantErr(t, "add", s.AddToken(ctx, token(id, "admin", 1)), nil)
		}
		wantErr(t, "revoke", s.RevokeToken(ctx, "t1", at(10)), nil)
		wantErr(t, "revoke again", s.RevokeToken(ctx, "t1", at(20)), store.ErrConflict)
		revoked := token("t1", "admin", 1)
		revoked.Revoked = at(10)
		got, err := s.TokenByHash(ctx, revoked.Hash)
		wantErr(t, "by hash", err, nil)
		same(t, "revoked token", got, revoked)
		got, err = s.TokenByHash(ctx, token("t2", "admin", 1).Hash)
		wantErr(t, "by hash", err, nil)
		same(t, "the other token", got, token("t2", "admin", 1))
	})
}

func testLoginSessions(t *testing.T, open Opener) {
	t.Run("Lifecycle", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		ls := store.LoginSession{Hash: sum([]byte("cookie")), Principal: "admin", CSRF: []byte("csrf"), Created: at(1), Expires: at(time.Hour)}
		bare := store.LoginSession{Hash: []byte{2}, Principal: "admin", CSRF: []byte{}}
		for _, l := range []store.LoginSession{ls, bare} {
			wantErr(t, "add", s.AddLoginSession(ctx, l), nil)
			got, err := s.LoginSession(ctx, l.Hash)
			wantErr(t, "login session", err, nil)
			same(t, "login session", got, l)
		}
		again := ls
		again.CSRF = []byte("other")
		wantErr(t, "add again", s.AddLoginSession(ctx, again), store.ErrExists)
		got, err := s.LoginSession(ctx, ls.Hash)
		wantErr(t, "login session", err, nil)
		same(t, "after refused add", got, ls)

		wantErr(t, "delete", s.DeleteLoginSession(ctx, ls.Hash), nil)
		_, err = s.LoginSession(ctx, ls.Hash)
		wantErr(t, "after delete", err, store.ErrNotFound)
		wantErr(t, "delete again", s.DeleteLoginSession(ctx, ls.Hash), store.ErrNotFound)
		_, err = s.LoginSession(ctx, bare.Hash)
		wantErr(t, "the other session", err, nil)
	})
	t.Run("Refused", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add principal", s.AddPrincipal(ctx, principal("admin")), nil)
		for _, tc := range []struct {
			name string
			ls   store.LoginSession
			want error
		}{
			{"unknown principal", store.LoginSession{Hash: []byte{1}, Principal: "nobody"}, store.ErrNotFound},
			{"no hash", store.LoginSession{Principal: "admin"}, store.ErrInvalid},
			{"no principal", store.LoginSession{Hash: []byte{1}}, store.ErrInvalid},
			{"CSRF too long", store.LoginSession{Hash: []byte{1}, Principal: "admin", CSRF: make([]byte, store.MaxKey+1)}, store.ErrInvalid},
		} {
			wantErr(t, tc.name, s.AddLoginSession(ctx, tc.ls), tc.want)
		}
		_, err := s.LoginSession(ctx, []byte{1})
		wantErr(t, "refused session stored", err, store.ErrNotFound)
	})
}
