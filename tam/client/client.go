// Package client is the Go client of the TAM's operator API (the CLI's
// `teeup tam ...` commands use it): JSON over HTTPS with a bearer token.
//
// Trust: it trusts the TAM it is pointed at, authenticated by TLS against
// the roots given (--tam-ca) or the system's; it sends the token to that
// TAM only, and reads bounded answers.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/teeup/teeup/tam/auth"
)

// Config says which TAM to talk to and how.
type Config struct {
	// URL is the TAM's base URL (https://host:port).
	URL string
	// Token is the API token (auth's teeup_<id>_<secret>).
	Token string
	// CAPEM, when not nil, is the only trust for the TAM's certificate
	// (its self-signed certificate, or the CA that issued it).
	CAPEM []byte
	// HTTP, when not nil, is the HTTP client to use (tests); CAPEM is
	// then ignored.
	HTTP *http.Client
}

// Client calls one TAM's operator API. Safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// ErrConfig: a Config the client cannot use.
var ErrConfig = errors.New("client: bad configuration")

// New is a client of the TAM at cfg.URL.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: TAM URL %q: want https://host[:port]", ErrConfig, cfg.URL)
	}
	c := &Client{base: u, token: cfg.Token, http: cfg.HTTP}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.CAPEM != nil {
			if tr.TLSClientConfig, err = auth.ClientTLS(cfg.CAPEM); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrConfig, err)
			}
		}
		c.http = &http.Client{Transport: tr, Timeout: RequestTimeout}
	}
	return c, nil
}

// APIError is an error answer of the API: its status and the
// {"error", "code"} body. errors.Is matches it to the sentinels below by
// status.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("TAM answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("TAM answered %d: %s", e.Status, e.Message)
}

// Sentinels an APIError matches, by status.
var (
	ErrBadRequest      = errors.New("client: bad request")           // 400
	ErrUnauthenticated = errors.New("client: not authenticated")     // 401
	ErrForbidden       = errors.New("client: forbidden")             // 403
	ErrNotFound        = errors.New("client: not found")             // 404
	ErrConflict        = errors.New("client: conflict")              // 409
	ErrTooLarge        = errors.New("client: request too large")     // 413
	ErrRateLimited     = errors.New("client: rate limited")          // 429
	ErrServer          = errors.New("client: the TAM failed")        // 5xx
	ErrResponse        = errors.New("client: unreadable TAM answer") // not an API answer
)

// Is matches e to the sentinel of its status.
func (e *APIError) Is(target error) bool {
	switch e.Status {
	case http.StatusBadRequest:
		return target == ErrBadRequest
	case http.StatusUnauthorized:
		return target == ErrUnauthenticated
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusConflict:
		return target == ErrConflict
	case http.StatusRequestEntityTooLarge:
		return target == ErrTooLarge
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	}
	return e.Status >= 500 && target == ErrServer
}

// do sends a JSON request (in, unless nil) to path (with its query) and
// decodes a JSON answer into out (unless nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	resp, err := c.send(ctx, method, path, "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, MaxResponse)).Decode(out); err != nil {
		return fmt.Errorf("%s %s: %w: %w", method, path, ErrResponse, err)
	}
	return nil
}

// send sends one request and returns a 2xx answer; any other answer is
// an *APIError. The caller closes the answer's body.
func (c *Client) send(ctx context.Context, method, path, ctype string, body io.Reader) (*http.Response, error) {
	ref, err := url.Parse(strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	base := *c.base
	base.Path = strings.TrimSuffix(base.Path, "/") + "/"
	req, err := http.NewRequestWithContext(ctx, method, base.ResolveReference(ref).String(), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	apiErr := &APIError{Status: resp.StatusCode}
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, MaxErrorBody)).Decode(&e) == nil {
		apiErr.Message, apiErr.Code = e.Error, e.Code
	}
	return nil, fmt.Errorf("%s %s: %w", method, path, apiErr)
}
