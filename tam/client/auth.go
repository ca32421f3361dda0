package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/teeup/teeup/tam/auth"
)

// AddUser registers a principal (operator role).
func (c *Client) AddUser(ctx context.Context, req auth.UserRequest) (auth.User, error) {
	var u auth.User
	return u, c.Do(ctx, "POST", "/api/v1/users", req, &u)
}

// CreateToken makes an API token for user, valid for expiresIn (a Go
// duration; the TAM's default when empty). The answer's Token is shown
// this once: the TAM keeps only its hash.
func (c *Client) CreateToken(ctx context.Context, user, expiresIn string) (auth.TokenResponse, error) {
	var t auth.TokenResponse
	return t, c.Do(ctx, "POST", "/api/v1/tokens", auth.TokenRequest{User: user, ExpiresIn: expiresIn}, &t)
}

// RevokeToken revokes the token with that id.
func (c *Client) RevokeToken(ctx context.Context, id string) (auth.RevokeResponse, error) {
	var r auth.RevokeResponse
	return r, c.Do(ctx, "POST", "/api/v1/tokens/"+url.PathEscape(id)+"/revoke", nil, &r)
}

// Audit is up to limit audit rows after sequence number after, oldest
// first (the TAM's page size when limit is 0).
func (c *Client) Audit(ctx context.Context, after int64, limit int) ([]auth.AuditRow, error) {
	q := url.Values{"after": {strconv.FormatInt(after, 10)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p auth.AuditPage
	if err := c.Do(ctx, "GET", "/api/v1/audit?"+q.Encode(), nil, &p); err != nil {
		return nil, err
	}
	return p.Entries, nil
}

// AuditAll is the audit trail after sequence number after, page by
// page, up to maxRows rows.
func (c *Client) AuditAll(ctx context.Context, after int64, maxRows int) ([]auth.AuditRow, error) {
	var all []auth.AuditRow
	for len(all) < maxRows {
		page, err := c.Audit(ctx, after, min(auth.MaxAuditPage, maxRows-len(all)))
		if err != nil {
			return all, err
		}
		if len(page) == 0 {
			return all, nil
		}
		if page[0].Seq <= after {
			return all, fmt.Errorf("audit: %w: rows out of order after %d", ErrResponse, after)
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	return all, nil
}
