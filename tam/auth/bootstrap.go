package auth

import (
	"context"
	cryptorand "crypto/rand"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// InitAdmin makes the first operator, name, when the store holds no
// operator yet, and returns its first API token (to print once), drawn
// from rand (crypto/rand when nil). With an
// operator there already it changes nothing: ErrOperatorExists.
func InitAdmin(ctx context.Context, st Store, name string, now time.Time, rand io.Reader) (TokenResponse, error) {
	if err := checkName(name); err != nil {
		return TokenResponse{}, err
	}
	ps, err := st.ListPrincipals(ctx)
	if err != nil {
		return TokenResponse{}, fmt.Errorf("init admin: %w", err)
	}
	for _, p := range ps {
		if slices.Contains(p.Roles, store.RoleOperator) {
			return TokenResponse{}, fmt.Errorf("%w: %q", ErrOperatorExists, p.Name)
		}
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	// The token is drawn first: a failure leaves no operator without one.
	id, tok, hash, err := NewToken(rand)
	if err != nil {
		return TokenResponse{}, err
	}
	if err := st.AddPrincipal(ctx, store.Principal{Name: name, Roles: []store.Role{store.RoleOperator}, Created: now}); err != nil {
		return TokenResponse{}, fmt.Errorf("init admin %q: %w", name, err)
	}
	t := store.Token{ID: id, Principal: name, Hash: hash, Created: now, Expires: now.Add(DefaultTokenLifetime)}
	if err := st.AddToken(ctx, t); err != nil {
		return TokenResponse{}, fmt.Errorf("init admin %q: %w", name, err)
	}
	if _, err := st.AppendAudit(ctx, store.AuditEntry{Time: now, Action: "init-admin", Target: name, Result: "ok",
		Detail: "new token " + id}); err != nil {
		return TokenResponse{}, fmt.Errorf("init admin %q: %w", name, err)
	}
	return TokenResponse{ID: id, Token: tok, User: name, Expires: t.Expires}, nil
}
