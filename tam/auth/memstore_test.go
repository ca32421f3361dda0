package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// memStore is the part of tam/store the gate uses, in memory, for these
// tests until tam/store/sqlite lands. It keeps the store's contract:
// ErrExists, ErrNotFound, ErrConflict, append-only audit.
type memStore struct {
	mu         sync.Mutex
	principals map[string]store.Principal
	tokens     []store.Token
	sessions   map[string]store.LoginSession
	audit      []store.AuditEntry
	authors    map[string]store.Author
}

func newMemStore() *memStore {
	return &memStore{principals: map[string]store.Principal{}, sessions: map[string]store.LoginSession{}, authors: map[string]store.Author{}}
}

func (m *memStore) AddPrincipal(_ context.Context, p store.Principal) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.principals[p.Name]; ok {
		return store.ErrExists
	}
	p.Roles = slices.Clone(p.Roles)
	m.principals[p.Name] = p
	return nil
}

func (m *memStore) Principal(_ context.Context, name string) (store.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.principals[name]
	if !ok {
		return store.Principal{}, store.ErrNotFound
	}
	return p, nil
}

func (m *memStore) ListPrincipals(context.Context) ([]store.Principal, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []store.Principal
	for _, p := range m.principals {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b store.Principal) int { return cmpString(a.Name, b.Name) })
	return ps, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (m *memStore) SetPassword(_ context.Context, name string, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.principals[name]
	if !ok {
		return store.ErrNotFound
	}
	p.PasswordHash = hash
	m.principals[name] = p
	return nil
}

func (m *memStore) AddToken(_ context.Context, t store.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.tokens {
		if o.ID == t.ID || bytes.Equal(o.Hash, t.Hash) {
			return store.ErrExists
		}
	}
	m.tokens = append(m.tokens, t)
	return nil
}

func (m *memStore) TokenByHash(_ context.Context, hash []byte) (store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tokens {
		if bytes.Equal(t.Hash, hash) {
			return t, nil
		}
	}
	return store.Token{}, store.ErrNotFound
}

func (m *memStore) ListTokens(_ context.Context, principal string) ([]store.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ts []store.Token
	for _, t := range m.tokens {
		if t.Principal == principal {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

func (m *memStore) RevokeToken(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, t := range m.tokens {
		if t.ID == id {
			if !t.Revoked.IsZero() {
				return store.ErrConflict
			}
			m.tokens[i].Revoked = at
			return nil
		}
	}
	return store.ErrNotFound
}

func (m *memStore) AddLoginSession(_ context.Context, s store.LoginSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[string(s.Hash)]; ok {
		return store.ErrExists
	}
	m.sessions[string(s.Hash)] = s
	return nil
}

func (m *memStore) LoginSession(_ context.Context, hash []byte) (store.LoginSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[string(hash)]
	if !ok {
		return store.LoginSession{}, store.ErrNotFound
	}
	return s, nil
}

func (m *memStore) DeleteLoginSession(_ context.Context, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[string(hash)]; !ok {
		return store.ErrNotFound
	}
	delete(m.sessions, string(hash))
	return nil
}

func (m *memStore) AppendAudit(_ context.Context, e store.AuditEntry) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.Seq = int64(len(m.audit) + 1)
	m.audit = append(m.audit, e)
	return e.Seq, nil
}

func (m *memStore) ListAudit(_ context.Context, after int64, limit int) ([]store.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var es []store.AuditEntry
	for _, e := range m.audit {
		if e.Seq > after && len(es) < limit {
			es = append(es, e)
		}
	}
	return es, nil
}

func (m *memStore) AddAuthor(_ context.Context, a store.Author) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.authors[a.Name]; ok {
		return store.ErrExists
	}
	m.authors[a.Name] = a
	return nil
}

func (m *memStore) Author(_ context.Context, name string) (store.Author, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.authors[name]
	if !ok {
		return store.Author{}, fmt.Errorf("author %q: %w", name, store.ErrNotFound)
	}
	return a, nil
}

func (m *memStore) ListAuthors(context.Context) ([]store.Author, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var as []store.Author
	for _, a := range m.authors {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b store.Author) int { return cmpString(a.Name, b.Name) })
	return as, nil
}
