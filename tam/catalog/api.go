package catalog

import (
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/teeup/teeup/tam/store"
)

// The operator API's bodies (JSON, snake_case). Byte strings are base64
// (encoding/json's []byte); keys are PEM text; component IDs are in
// suit.ComponentID.String's form (ParseComponentID also reads TA/acme).

// AuthorRequest registers an author (POST /api/v1/authors).
type AuthorRequest struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Key      string   `json:"key"`
	Prefixes []string `json:"prefixes"`
}

// AuthorJSON is a registered author.
type AuthorJSON struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Key      string    `json:"key"`
	KeyID    string    `json:"key_id"`
	Prefixes []string  `json:"prefixes"`
	Created  time.Time `json:"created"`
}

// PublishRequest publishes an envelope (POST /api/v1/publish, JSON form;
// the multipart form has a file part "envelope", file parts "payload"
// and an optional field "author").
type PublishRequest struct {
	Author   string   `json:"author,omitempty"`
	Envelope []byte   `json:"envelope"`
	Payloads [][]byte `json:"payloads,omitempty"`
	Hold     bool     `json:"hold,omitempty"`
}

// EnvelopeJSON is a stored envelope.
type EnvelopeJSON struct {
	Digest         string    `json:"digest"`
	Kind           string    `json:"kind"`
	Components     []string  `json:"components"`
	SequenceNumber uint64    `json:"sequence_number"`
	Author         string    `json:"author"`
	Device         string    `json:"device,omitempty"`
	Payloads       []string  `json:"payloads"`
	Published      time.Time `json:"published"`
	// Held: delivered only through a rollout of a release that holds it.
	Held bool `json:"held,omitempty"`
}

// PersonalizeRequest personalizes a TC for a device (POST
// /api/v1/personalize).
type PersonalizeRequest struct {
	Device string `json:"device"`
	TC     string `json:"tc"`
	Data   []byte `json:"data"`
}

// DeviceRequest registers a device (POST /api/v1/devices).
type DeviceRequest struct {
	Name         string          `json:"name,omitempty"`
	Endorsement  json.RawMessage `json:"endorsement"`
	Reference    json.RawMessage `json:"reference,omitempty"`
	AgreementKey string          `json:"agreement_key,omitempty"`
}

// DeviceJSON is a registered device.
type DeviceJSON struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	Registered      time.Time `json:"registered"`
	HasAgreementKey bool      `json:"has_agreement_key"`
	HasReference    bool      `json:"has_reference"`
}

// StatusJSON is GET /api/v1/status.
type StatusJSON struct {
	Devices []DeviceStatus `json:"devices"`
}

// ErrorJSON is every error answer.
type ErrorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// HandleAddAuthor is POST /api/v1/authors (operator).
func (c *Catalog) HandleAddAuthor(w http.ResponseWriter, r *http.Request) {
	var req AuthorRequest
	if !readJSON(w, r, MaxJSONBody, &req) {
		return
	}
	if len(req.Prefixes) > MaxPrefixes {
		writeErr(w, fmt.Errorf("%w: %d prefixes, at most %d", ErrInvalid, len(req.Prefixes), MaxPrefixes))
		return
	}
	n := NewAuthor{Name: req.Name, Kind: store.AuthorKind(req.Kind), KeyPEM: []byte(req.Key)}
	for _, p := range req.Prefixes {
		id, err := ParseComponentID(p)
		if err != nil {
			writeErr(w, err)
			return
		}
		n.Prefixes = append(n.Prefixes, id)
	}
	a, err := c.AddAuthor(r.Context(), n)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, authorJSON(a))
}

// HandleListAuthors is GET /api/v1/authors.
func (c *Catalog) HandleListAuthors(w http.ResponseWriter, r *http.Request) {
	all, err := c.Authors(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]AuthorJSON, 0, len(all))
	for _, a := range all {
		out = append(out, authorJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// HandlePublish is POST /api/v1/publish (an author, as itself).
func (c *Catalog) HandlePublish(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxPublishBody)
	pub, err := ReadPublication(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	e, err := c.Publish(r.Context(), pub)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelopeJSON(e))
}

// ReadPublication reads a publish request's body: JSON (PublishRequest)
// or multipart/form-data. The caller bounds the body.
func ReadPublication(r *http.Request) (Publication, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = "application/json"
	}
	if mt != "multipart/form-data" {
		var req PublishRequest
		if err := decodeJSON(r.Body, &req); err != nil {
			return Publication{}, err
		}
		return Publication(req), nil
	}
	var pub Publication
	mr := multipart.NewReader(r.Body, params["boundary"])
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Publication{}, bodyErr(err)
		}
		if parts > MaxPayloads+2 {
			return Publication{}, fmt.Errorf("%w: more than %d parts", ErrTooLarge, MaxPayloads+2)
		}
		limit := int64(maxPayload)
		if part.FormName() == "envelope" {
			limit = MaxEnvelope
		}
		b, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return Publication{}, bodyErr(err)
		}
		if int64(len(b)) > limit {
			return Publication{}, fmt.Errorf("%w: part %q over %d bytes", ErrTooLarge, part.FormName(), limit)
		}
		switch part.FormName() {
		case "envelope":
			if pub.Envelope != nil {
				return Publication{}, fmt.Errorf("%w: two envelopes", ErrInvalid)
			}
			pub.Envelope = b
		case "payload":
			pub.Payloads = append(pub.Payloads, b)
		case "author":
			pub.Author = string(b)
		case "hold":
			switch string(b) {
			case "true":
				pub.Hold = true
			case "false":
			default:
				return Publication{}, fmt.Errorf("%w: hold %q, not true or false", ErrInvalid, b)
			}
		default:
			return Publication{}, fmt.Errorf("%w: unknown part %q", ErrInvalid, part.FormName())
		}
	}
	if pub.Envelope == nil {
		return Publication{}, fmt.Errorf("%w: no envelope part", ErrInvalid)
	}
	return pub, nil
}

// HandlePersonalize is POST /api/v1/personalize (operator).
func (c *Catalog) HandlePersonalize(w http.ResponseWriter, r *http.Request) {
	var req PersonalizeRequest
	if !readJSON(w, r, 2*MaxPersonalization, &req) {
		return
	}
	tc, err := ParseComponentID(req.TC)
	if err != nil {
		writeErr(w, err)
		return
	}
	e, err := c.Personalize(r.Context(), req.Device, tc, req.Data)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelopeJSON(e))
}

// HandleAddDevice is POST /api/v1/devices (operator).
func (c *Catalog) HandleAddDevice(w http.ResponseWriter, r *http.Request) {
	var req DeviceRequest
	if !readJSON(w, r, MaxJSONBody, &req) {
		return
	}
	n := NewDevice{Name: req.Name, Endorsement: req.Endorsement}
	if len(req.Reference) > 0 && string(req.Reference) != "null" {
		n.Reference = req.Reference
	}
	if req.AgreementKey != "" {
		n.AgreementKeyPEM = []byte(req.AgreementKey)
	}
	d, err := c.AddDevice(r.Context(), n)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, deviceJSON(d))
}

// HandleListDevices is GET /api/v1/devices.
func (c *Catalog) HandleListDevices(w http.ResponseWriter, r *http.Request) {
	all, err := c.Devices(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	out := make([]DeviceJSON, 0, len(all))
	for _, d := range all {
		out = append(out, deviceJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// HandleStatus is GET /api/v1/status.
func (c *Catalog) HandleStatus(w http.ResponseWriter, r *http.Request) {
	s, err := c.Status(r.Context())
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, StatusJSON{Devices: s})
}

func authorJSON(a store.Author) AuthorJSON {
	out := AuthorJSON{Name: a.Name, Kind: string(a.Kind), Prefixes: []string{}, Created: a.Created,
		Key: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: a.Key}))}
	if k, err := authorKey(a); err == nil {
		out.KeyID = k.ID
	}
	for _, p := range a.Prefixes {
		out.Prefixes = append(out.Prefixes, p.String())
	}
	return out
}

func envelopeJSON(e store.Envelope) EnvelopeJSON {
	out := EnvelopeJSON{Digest: hex.EncodeToString(e.Digest), Kind: string(e.Kind), Components: []string{},
		SequenceNumber: e.SequenceNumber, Author: e.Author, Device: e.Device, Payloads: []string{}, Published: e.Published,
		Held: e.Held}
	for _, c := range e.Components {
		out.Components = append(out.Components, c.String())
	}
	for _, p := range e.Payloads {
		out.Payloads = append(out.Payloads, hex.EncodeToString(p))
	}
	return out
}

func deviceJSON(d store.Device) DeviceJSON {
	return DeviceJSON{ID: d.ID, Name: d.Name, Registered: d.Registered,
		HasAgreementKey: d.AgreementKey != nil, HasReference: d.Reference != nil}
}

// readJSON reads a bounded JSON body into v, or answers the error.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if err := decodeJSON(r.Body, v); err != nil {
		writeErr(w, err)
		return false
	}
	return true
}

// decodeJSON decodes exactly one JSON value with no unknown fields.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyErr(err)
	}
	if dec.More() {
		return fmt.Errorf("%w: more than one JSON value", ErrInvalid)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON value", ErrInvalid)
	}
	return nil
}

// bodyErr is a body that could not be read: too large, or malformed.
func bodyErr(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: body: %w", ErrInvalid, err)
}

// StatusOf maps a refusal onto its HTTP status and code.
func StatusOf(err error) (int, string) {
	for _, m := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrTooLarge, http.StatusRequestEntityTooLarge, "too_large"},
		{ErrInvalid, http.StatusBadRequest, "invalid"},
		{ErrPayloadDigest, http.StatusBadRequest, "payload_digest"},
		{ErrNotAuthor, http.StatusForbidden, "not_author"},
		{ErrUnknownAuthor, http.StatusForbidden, "unknown_author"},
		{ErrSignature, http.StatusForbidden, "bad_signature"},
		{ErrOutsidePrefixes, http.StatusForbidden, "outside_prefixes"},
		{ErrNoCoSignature, http.StatusForbidden, "no_co_signature"},
		{ErrExists, http.StatusConflict, "exists"},
		{ErrNoAgreementKey, http.StatusConflict, "no_agreement_key"},
		{ErrUnknownDevice, http.StatusNotFound, "unknown_device"},
		{ErrUnknownTC, http.StatusNotFound, "unknown_tc"},
	} {
		if errors.Is(err, m.err) {
			return m.status, m.code
		}
	}
	return http.StatusInternalServerError, "internal"
}

func writeErr(w http.ResponseWriter, err error) {
	status, code := StatusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		slog.Error("operator API", "err", err)
		msg = "internal error"
	}
	writeError(w, status, code, msg)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorJSON{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("operator API: encoding the answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error","code":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a client that hung up gets nothing more
}
