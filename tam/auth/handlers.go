package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/store"
)

// The JSON of the gate's own routes (tam/client speaks it).
type (
	// UserRequest is POST /api/v1/users.
	UserRequest struct {
		Name   string       `json:"name"`
		Roles  []store.Role `json:"roles"`
		Author string       `json:"author,omitempty"`
		// Password, when given, lets the user log in to the dashboard.
		Password string `json:"password,omitempty"`
	}
	// User is a principal as the API shows it (never its password hash).
	User struct {
		Name    string       `json:"name"`
		Roles   []store.Role `json:"roles"`
		Author  string       `json:"author,omitempty"`
		Login   bool         `json:"login"`
		Created time.Time    `json:"created"`
	}
	// TokenRequest is POST /api/v1/tokens; ExpiresIn is a Go duration
	// ("720h"), DefaultTokenLifetime when empty.
	TokenRequest struct {
		User      string `json:"user"`
		ExpiresIn string `json:"expires_in,omitempty"`
	}
	// TokenResponse carries the token, shown this once.
	TokenResponse struct {
		ID      string    `json:"id"`
		Token   string    `json:"token"`
		User    string    `json:"user"`
		Expires time.Time `json:"expires"`
	}
	// RevokeResponse is POST /api/v1/tokens/{id}/revoke.
	RevokeResponse struct {
		ID      string    `json:"id"`
		Revoked time.Time `json:"revoked"`
	}
	// AuditRow is one row of GET /api/v1/audit.
	AuditRow struct {
		Seq       int64     `json:"seq"`
		Time      time.Time `json:"time"`
		Principal string    `json:"principal,omitempty"`
		Action    string    `json:"action"`
		Target    string    `json:"target,omitempty"`
		Result    string    `json:"result"`
		Detail    string    `json:"detail,omitempty"`
	}
	// AuditPage is GET /api/v1/audit?after=SEQ&limit=N: rows after SEQ,
	// oldest first.
	AuditPage struct {
		Entries []AuditRow `json:"entries"`
	}
)

// ErrInvalid: a request the API refuses as malformed (400).
var ErrInvalid = errors.New("auth: invalid request")

// statuses maps the refusals of the gate's own routes onto their HTTP
// statuses and codes; anything else (a store fault) is 500, logged.
var statuses = apijson.Statuses{
	{Err: ErrInvalid, Status: http.StatusBadRequest, Code: "bad_request"},
	{Err: apijson.ErrMalformed, Status: http.StatusBadRequest, Code: "bad_request"},
	{Err: apijson.ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
	{Err: store.ErrNotFound, Status: http.StatusNotFound, Code: "not_found"},
	{Err: store.ErrExists, Status: http.StatusConflict, Code: "exists"},
	{Err: store.ErrConflict, Status: http.StatusConflict, Code: "conflict"},
	{Err: store.ErrInvalid, Status: http.StatusBadRequest, Code: "bad_request"},
}

// checkName refuses a principal name outside [a-z0-9._-]{1,MaxNameLen}.
func checkName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: a name has 1 to %d characters", ErrInvalid, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("%w: name %q: only a-z 0-9 . _ -", ErrInvalid, name)
		}
	}
	return nil
}

var knownRoles = []store.Role{store.RoleTAAuthor, store.RoleFirmwareAuthor, store.RoleOperator, store.RoleViewer}

// checkUser refuses a user with no role, an unknown or repeated role, an
// author role without an author, or an author without an author role.
func checkUser(req UserRequest) error {
	if err := checkName(req.Name); err != nil {
		return err
	}
	if len(req.Roles) == 0 {
		return fmt.Errorf("%w: a user needs at least one role", ErrInvalid)
	}
	authorRole := false
	for i, r := range req.Roles {
		if !slices.Contains(knownRoles, r) {
			return fmt.Errorf("%w: unknown role %q (want one of %v)", ErrInvalid, r, knownRoles)
		}
		if slices.Contains(req.Roles[:i], r) {
			return fmt.Errorf("%w: role %q twice", ErrInvalid, r)
		}
		authorRole = authorRole || r == store.RoleTAAuthor || r == store.RoleFirmwareAuthor
	}
	if authorRole != (req.Author != "") {
		return fmt.Errorf("%w: an author role and an author go together", ErrInvalid)
	}
	if req.Password != "" && (len(req.Password) < MinPasswordLen || len(req.Password) > MaxPasswordLen) {
		return fmt.Errorf("%w: a password has %d to %d bytes", ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

func (g *Gate) addUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	if err := apijson.Decode(r.Body, &req); err != nil { // the gate bounded the body
		g.api.Error(w, err)
		return
	}
	SetAuditTarget(r.Context(), req.Name)
	if err := checkUser(req); err != nil {
		g.api.Error(w, err)
		return
	}
	if req.Author != "" {
		if _, err := g.st.Author(r.Context(), req.Author); err != nil {
			g.api.Error(w, fmt.Errorf("author %q: %w", req.Author, err))
			return
		}
	}
	p := store.Principal{Name: req.Name, Roles: req.Roles, Author: req.Author, Created: g.now()}
	if req.Password != "" {
		var err error
		if p.PasswordHash, err = HashPassword(req.Password, g.password, g.rand); err != nil {
			g.api.Error(w, err)
			return
		}
	}
	if err := g.st.AddPrincipal(r.Context(), p); err != nil {
		g.api.Error(w, fmt.Errorf("user %q: %w", req.Name, err))
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, userOf(p))
}

func userOf(p store.Principal) User {
	return User{Name: p.Name, Roles: p.Roles, Author: p.Author, Login: len(p.PasswordHash) > 0, Created: p.Created}
}

func (g *Gate) createToken(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := apijson.Decode(r.Body, &req); err != nil { // the gate bounded the body
		g.api.Error(w, err)
		return
	}
	SetAuditTarget(r.Context(), req.User)
	life := DefaultTokenLifetime
	if req.ExpiresIn != "" {
		var err error
		if life, err = time.ParseDuration(req.ExpiresIn); err != nil || life <= 0 || life > MaxTokenLifetime {
			g.api.Error(w, fmt.Errorf("%w: expires_in %q: a duration up to %v", ErrInvalid, req.ExpiresIn, MaxTokenLifetime))
			return
		}
	}
	if _, err := g.st.Principal(r.Context(), req.User); err != nil {
		g.api.Error(w, fmt.Errorf("user %q: %w", req.User, err))
		return
	}
	resp, err := g.issueToken(r, req.User, life)
	if err != nil {
		g.api.Error(w, err)
		return
	}
	SetAuditDetail(r.Context(), "new token "+resp.ID)
	apijson.WriteJSON(w, http.StatusCreated, resp)
}

func (g *Gate) issueToken(r *http.Request, user string, life time.Duration) (TokenResponse, error) {
	id, tok, hash, err := NewToken(g.rand)
	if err != nil {
		return TokenResponse{}, err
	}
	now := g.now()
	t := store.Token{ID: id, Principal: user, Hash: hash, Created: now, Expires: now.Add(life)}
	if err := g.st.AddToken(r.Context(), t); err != nil {
		return TokenResponse{}, fmt.Errorf("token for %q: %w", user, err)
	}
	return TokenResponse{ID: id, Token: tok, User: user, Expires: t.Expires}, nil
}

func (g *Gate) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	now := g.now()
	if err := g.st.RevokeToken(r.Context(), id, now); err != nil {
		g.api.Error(w, fmt.Errorf("token %q: %w", id, err))
		return
	}
	apijson.WriteJSON(w, http.StatusOK, RevokeResponse{ID: id, Revoked: now})
}

func (g *Gate) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), MaxAuditPage
	var err error
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseInt(s, 10, 64); err != nil || after < 0 {
			apijson.WriteError(w, http.StatusBadRequest, "bad_request", "after: a sequence number")
			return
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit <= 0 || limit > MaxAuditPage {
			apijson.WriteError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("limit: 1 to %d", MaxAuditPage))
			return
		}
	}
	es, err := g.st.ListAudit(r.Context(), after, limit)
	if err != nil {
		g.api.Error(w, err)
		return
	}
	page := AuditPage{Entries: make([]AuditRow, 0, len(es))}
	for _, e := range es {
		page.Entries = append(page.Entries, AuditRow(e))
	}
	apijson.WriteJSON(w, http.StatusOK, page)
}
