package auth

import (
	"context"

	"github.com/teeup/teeup/tam/store"
)

type principalKey struct{}

// WithPrincipal is ctx carrying the authenticated principal: the gate sets
// it before a handler runs.
func WithPrincipal(ctx context.Context, p store.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the principal the gate authenticated, if any. Handlers
// behind the gate use it to scope what they do (an author publishes only
// as its own author).
func PrincipalFrom(ctx context.Context) (store.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(store.Principal)
	return p, ok
}
