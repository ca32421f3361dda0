package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/catalog"
)

// Client calls one TAM's operator API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// New is a client of the TAM at base (https://host:port) with an API
// token; hc nil means http.DefaultClient.
func New(base, token string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("client: TAM URL %q: want https://host[:port]", base)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(base, "/"), token: token, http: hc}, nil
}

// TLSConfig trusts the CA certificates in caPEM (the TAM's own
// self-signed certificate, for one) instead of the system's.
func TLSConfig(caPEM []byte) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("client: no certificate in the CA file")
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// AddAuthor registers an author.
func (c *Client) AddAuthor(ctx context.Context, req catalog.AuthorRequest) (catalog.AuthorJSON, error) {
	var out catalog.AuthorJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/authors", req, &out)
}

// Authors lists the authors.
func (c *Client) Authors(ctx context.Context) ([]catalog.AuthorJSON, error) {
	var out []catalog.AuthorJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/authors", nil, &out)
}

// Publish publishes an envelope and its detached payloads (a multipart
// body, so that large payloads are not base64-inflated).
func (c *Client) Publish(ctx context.Context, envelope []byte, payloads [][]byte) (catalog.EnvelopeJSON, error) {
	return c.publish(ctx, envelope, payloads, false)
}

// PublishHeld publishes an envelope held for a release: devices get it
// only through a rollout.
func (c *Client) PublishHeld(ctx context.Context, envelope []byte, payloads [][]byte) (catalog.EnvelopeJSON, error) {
	return c.publish(ctx, envelope, payloads, true)
}

func (c *Client) publish(ctx context.Context, envelope []byte, payloads [][]byte, hold bool) (catalog.EnvelopeJSON, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var err error
	if hold {
		err = mw.WriteField("hold", "true")
	}
	var part io.Writer
	if err == nil {
		part, err = mw.CreateFormFile("envelope", "envelope.suit")
	}
	if err == nil {
		_, err = part.Write(envelope)
	}
	for i := 0; err == nil && i < len(payloads); i++ {
		if part, err = mw.CreateFormFile("payload", fmt.Sprintf("payload-%d", i+1)); err == nil {
			_, err = part.Write(payloads[i])
		}
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return catalog.EnvelopeJSON{}, err
	}
	var out catalog.EnvelopeJSON
	return out, c.send(ctx, http.MethodPost, "/api/v1/publish", mw.FormDataContentType(), &body, &out)
}

// Personalize stores personalization data for one device's TC.
func (c *Client) Personalize(ctx context.Context, req catalog.PersonalizeRequest) (catalog.EnvelopeJSON, error) {
	var out catalog.EnvelopeJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/personalize", req, &out)
}

// AddDevice registers a device.
func (c *Client) AddDevice(ctx context.Context, req catalog.DeviceRequest) (catalog.DeviceJSON, error) {
	var out catalog.DeviceJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/devices", req, &out)
}

// Do sends in as JSON (none when nil) and decodes the answer into out
// (ignored when nil). An error answer is an *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	return c.send(ctx, method, path, ctype, body, out)
}

func (c *Client) send(ctx context.Context, method, path, ctype string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return err
	}
	if len(b) > MaxResponse {
		return fmt.Errorf("%w: an answer over %d bytes", ErrResponse, MaxResponse)
	}
	if resp.StatusCode >= 300 {
		var e apijson.ErrorBody
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e = apijson.ErrorBody{Error: http.StatusText(resp.StatusCode), Code: "http"}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%w: %w", ErrResponse, err)
	}
	return nil
}
