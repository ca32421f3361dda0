package catalog

import (
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/teeup/teeup/tam/apijson"
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

// StatusJSON is GET /api/v1/status?after=ID&limit=N: one page of the
// devices' status, by ID.
type StatusJSON struct {
	// Summary counts the whole fleet; on the first page only (no after).
	Summary *SummaryJSON   `json:"summary,omitempty"`
	Devices []DeviceStatus `json:"devices"`
	// Next is the after of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

// DeviceListJSON is GET /api/v1/devices?after=ID&limit=N: one page of
// the registered devices, by ID.
type DeviceListJSON struct {
	Devices []DeviceJSON `json:"devices"`
	// Next is the after of the next page; absent on the last.
	Next string `json:"next,omitempty"`
}

// HandleAddAuthor is POST /api/v1/authors (operator).
func (c *Catalog) HandleAddAuthor(w http.ResponseWriter, r *http.Request) {
	var req AuthorRequest
	if !api.Read(w, r, MaxJSONBody, &req) {
		return
	}
	if len(req.Prefixes) > MaxPrefixes {
		api.Error(w, fmt.Errorf("%w: %d prefixes, at most %d", ErrInvalid, len(req.Prefixes), MaxPrefixes))
		return
	}
	n := NewAuthor{Name: req.Name, Kind: store.AuthorKind(req.Kind), KeyPEM: []byte(req.Key)}
	for _, p := range req.Prefixes {
		id, err := ParseComponentID(p)
		if err != nil {
			api.Error(w, err)
			return
		}
		n.Prefixes = append(n.Prefixes, id)
	}
	a, err := c.AddAuthor(r.Context(), n)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, authorJSON(a))
}

// HandleListAuthors is GET /api/v1/authors.
func (c *Catalog) HandleListAuthors(w http.ResponseWriter, r *http.Request) {
	all, err := c.Authors(r.Context())
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]AuthorJSON, 0, len(all))
	for _, a := range all {
		out = append(out, authorJSON(a))
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandlePublish is POST /api/v1/publish (an author, as itself).
func (c *Catalog) HandlePublish(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxPublishBody)
	pub, err := ReadPublication(r)
	if err != nil {
		api.Error(w, err)
		return
	}
	e, err := c.Publish(r.Context(), pub)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, envelopeJSON(e))
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
		if err := apijson.Decode(r.Body, &req); err != nil {
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
			return Publication{}, apijson.BodyError(err)
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
			return Publication{}, apijson.BodyError(err)
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
	if !api.Read(w, r, 2*MaxPersonalization, &req) {
		return
	}
	tc, err := ParseComponentID(req.TC)
	if err != nil {
		api.Error(w, err)
		return
	}
	e, err := c.Personalize(r.Context(), req.Device, tc, req.Data)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, envelopeJSON(e))
}

// HandleAddDevice is POST /api/v1/devices (operator).
func (c *Catalog) HandleAddDevice(w http.ResponseWriter, r *http.Request) {
	var req DeviceRequest
	if !api.Read(w, r, MaxJSONBody, &req) {
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
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, deviceJSON(d))
}

// HandleListDevices is GET /api/v1/devices?after=ID&limit=N (ParsePage).
func (c *Catalog) HandleListDevices(w http.ResponseWriter, r *http.Request) {
	after, limit, err := ParsePage(r.URL.Query())
	if err != nil {
		api.Error(w, err)
		return
	}
	devs, next, err := DevicePage(r.Context(), c.st, after, limit)
	if err != nil {
		api.Error(w, err)
		return
	}
	out := DeviceListJSON{Devices: make([]DeviceJSON, 0, len(devs)), Next: next}
	for _, d := range devs {
		out.Devices = append(out.Devices, deviceJSON(d))
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandleStatus is GET /api/v1/status?after=ID&limit=N (ParsePage).
func (c *Catalog) HandleStatus(w http.ResponseWriter, r *http.Request) {
	after, limit, err := ParsePage(r.URL.Query())
	if err != nil {
		api.Error(w, err)
		return
	}
	s, err := c.Status(r.Context(), after, limit)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusOK, s)
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

// statuses maps the catalog's refusals onto their HTTP statuses and codes.
var statuses = apijson.Statuses{
	{Err: ErrTooLargeForTEEP, Status: http.StatusRequestEntityTooLarge, Code: "too_large_for_teep"},
	{Err: ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
	{Err: apijson.ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
	{Err: ErrInvalid, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: apijson.ErrMalformed, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: ErrPayloadDigest, Status: http.StatusBadRequest, Code: "payload_digest"},
	{Err: ErrNotAuthor, Status: http.StatusForbidden, Code: "not_author"},
	{Err: ErrUnknownAuthor, Status: http.StatusForbidden, Code: "unknown_author"},
	{Err: ErrSignature, Status: http.StatusForbidden, Code: "bad_signature"},
	{Err: ErrOutsidePrefixes, Status: http.StatusForbidden, Code: "outside_prefixes"},
	{Err: ErrNoCoSignature, Status: http.StatusForbidden, Code: "no_co_signature"},
	{Err: ErrExists, Status: http.StatusConflict, Code: "exists"},
	{Err: ErrNoAgreementKey, Status: http.StatusConflict, Code: "no_agreement_key"},
	{Err: ErrUnknownDevice, Status: http.StatusNotFound, Code: "unknown_device"},
	{Err: ErrUnknownTC, Status: http.StatusNotFound, Code: "unknown_tc"},
	{Err: ErrNotWithdrawable, Status: http.StatusUnprocessableEntity, Code: "not_withdrawable"},
	{Err: ErrNotWithdrawn, Status: http.StatusNotFound, Code: "not_withdrawn"},
}

// api answers the catalog handlers' errors.
var api = apijson.Responder{Statuses: statuses}

// StatusOf maps a refusal onto its HTTP status and code.
func StatusOf(err error) (int, string) { return statuses.Of(err) }
