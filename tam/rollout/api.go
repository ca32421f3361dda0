package rollout

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/store"
)

// The operator API of groups, releases, rollouts and device tags (JSON,
// snake_case; docs/api.md). Authentication, authorization and the audit
// trail are the gate's (tam/auth): these handlers run behind it.

// GroupRequest makes a group (POST /api/v1/groups): members, or a
// selector.
type GroupRequest struct {
	Name     string        `json:"name"`
	Members  []string      `json:"members,omitempty"`
	Selector *SelectorJSON `json:"selector,omitempty"`
}

// SelectorJSON picks devices by attributes; every field set must match.
type SelectorJSON struct {
	Model   string `json:"model,omitempty"`
	Version string `json:"version,omitempty"`
	Tag     string `json:"tag,omitempty"`
}

// GroupJSON is a group, with the devices it resolves to now.
type GroupJSON struct {
	Name     string        `json:"name"`
	Members  []string      `json:"members,omitempty"`
	Selector *SelectorJSON `json:"selector,omitempty"`
	Devices  []string      `json:"devices"`
	Created  time.Time     `json:"created"`
}

// ReleaseRequest makes a release (POST /api/v1/releases) of held
// envelopes, by their SHA-256 digests in hex.
type ReleaseRequest struct {
	Name      string   `json:"name"`
	Envelopes []string `json:"envelopes"`
}

// ReleaseJSON is a release.
type ReleaseJSON struct {
	Name      string    `json:"name"`
	Envelopes []string  `json:"envelopes"`
	Created   time.Time `json:"created"`
}

// CreateRequest starts a rollout (POST /api/v1/rollouts). Waves are
// written as ParseWaves reads them ("10,25%").
type CreateRequest struct {
	Group            string `json:"group"`
	Release          string `json:"release"`
	Waves            string `json:"waves"`
	SuccessThreshold int    `json:"success_threshold"`
	ErrorThreshold   int    `json:"error_threshold"`
}

// Summary is a rollout.
type Summary struct {
	ID               string    `json:"id"`
	Group            string    `json:"group"`
	Release          string    `json:"release"`
	Waves            []int     `json:"waves"`
	SuccessThreshold int       `json:"success_threshold"`
	ErrorThreshold   int       `json:"error_threshold"`
	State            string    `json:"state"`
	Wave             int       `json:"wave"`
	Reason           string    `json:"reason,omitempty"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
}

// CountsJSON counts deliveries by state.
type CountsJSON struct {
	Wave      int `json:"wave"`
	Devices   int `json:"devices"`
	Pending   int `json:"pending"`
	Sent      int `json:"sent"`
	Installed int `json:"installed"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// ProgressJSON is a rollout's progress: per wave, and in all (whose wave
// is the number of waves started).
type ProgressJSON struct {
	Rollout Summary      `json:"rollout"`
	Waves   []CountsJSON `json:"waves"`
	Total   CountsJSON   `json:"total"`
}

// DeliveryJSON is one device of a rollout.
type DeliveryJSON struct {
	Device  string    `json:"device"`
	Wave    int       `json:"wave"`
	State   string    `json:"state"`
	Sends   int       `json:"sends"`
	Detail  string    `json:"detail,omitempty"`
	Updated time.Time `json:"updated"`
}

// ActionRequest is the optional body of pause and cancel.
type ActionRequest struct {
	Reason string `json:"reason,omitempty"`
}

// TagsJSON is a device's tags (PUT and GET /api/v1/devices/{device}/tags).
type TagsJSON struct {
	Tags []string `json:"tags"`
}

// HandleAddGroup is POST /api/v1/groups.
func (e *Engine) HandleAddGroup(w http.ResponseWriter, r *http.Request) {
	var req GroupRequest
	if !api.Read(w, r, MaxJSONBody, &req) {
		return
	}
	g := store.Group{Name: req.Name, Members: req.Members}
	if req.Selector != nil {
		g.Selector = store.Selector{Model: req.Selector.Model, Version: req.Selector.Version, Tag: req.Selector.Tag}
	}
	g, err := e.AddGroup(r.Context(), g)
	if err != nil {
		api.Error(w, err)
		return
	}
	e.writeGroup(w, r, g, http.StatusCreated)
}

// HandleListGroups is GET /api/v1/groups.
func (e *Engine) HandleListGroups(w http.ResponseWriter, r *http.Request) {
	gs, err := e.st.ListGroups(r.Context())
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]GroupJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, groupJSON(g, nil))
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandleGetGroup is GET /api/v1/groups/{name}: the group and the devices
// it resolves to now.
func (e *Engine) HandleGetGroup(w http.ResponseWriter, r *http.Request) {
	g, err := e.st.Group(r.Context(), r.PathValue("name"))
	if err != nil {
		api.Error(w, err)
		return
	}
	e.writeGroup(w, r, g, http.StatusOK)
}

func (e *Engine) writeGroup(w http.ResponseWriter, r *http.Request, g store.Group, status int) {
	devs, err := e.Resolve(r.Context(), g.Name)
	if err != nil && !errors.Is(err, ErrEmptyGroup) {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, status, groupJSON(g, devs))
}

func groupJSON(g store.Group, devices []string) GroupJSON {
	out := GroupJSON{Name: g.Name, Members: g.Members, Devices: devices, Created: g.Created}
	if out.Devices == nil {
		out.Devices = []string{}
	}
	if !g.Selector.IsZero() {
		out.Selector = &SelectorJSON{Model: g.Selector.Model, Version: g.Selector.Version, Tag: g.Selector.Tag}
	}
	return out
}

// HandleAddRelease is POST /api/v1/releases.
func (e *Engine) HandleAddRelease(w http.ResponseWriter, r *http.Request) {
	var req ReleaseRequest
	if !api.Read(w, r, MaxJSONBody, &req) {
		return
	}
	ds := make([][]byte, len(req.Envelopes))
	for i, s := range req.Envelopes {
		d, err := hex.DecodeString(s)
		if err != nil || len(d) != store.DigestSize {
			api.Error(w, fmt.Errorf("%w: envelope %q is not a SHA-256 digest in hex", ErrInvalid, s))
			return
		}
		ds[i] = d
	}
	rel, err := e.AddRelease(r.Context(), req.Name, ds)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, releaseJSON(rel))
}

// HandleListReleases is GET /api/v1/releases.
func (e *Engine) HandleListReleases(w http.ResponseWriter, r *http.Request) {
	rs, err := e.st.ListReleases(r.Context())
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]ReleaseJSON, 0, len(rs))
	for _, rel := range rs {
		out = append(out, releaseJSON(rel))
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

func releaseJSON(r store.Release) ReleaseJSON {
	out := ReleaseJSON{Name: r.Name, Envelopes: make([]string, len(r.Envelopes)), Created: r.Created}
	for i, d := range r.Envelopes {
		out.Envelopes[i] = hex.EncodeToString(d)
	}
	return out
}

// HandleCreateRollout is POST /api/v1/rollouts.
func (e *Engine) HandleCreateRollout(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if !api.Read(w, r, MaxJSONBody, &req) {
		return
	}
	waves, err := ParseWaves(req.Waves)
	if err != nil {
		api.Error(w, err)
		return
	}
	ro, err := e.Create(r.Context(), Spec{Group: req.Group, Release: req.Release, Waves: waves,
		SuccessThreshold: req.SuccessThreshold, ErrorThreshold: req.ErrorThreshold})
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusCreated, rolloutJSON(ro))
}

// HandleListRollouts is GET /api/v1/rollouts.
func (e *Engine) HandleListRollouts(w http.ResponseWriter, r *http.Request) {
	rs, err := e.st.ListRollouts(r.Context())
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]Summary, 0, len(rs))
	for _, ro := range rs {
		out = append(out, rolloutJSON(ro))
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandleGetRollout is GET /api/v1/rollouts/{rollout}.
func (e *Engine) HandleGetRollout(w http.ResponseWriter, r *http.Request) {
	ro, err := e.st.Rollout(r.Context(), r.PathValue("rollout"))
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusOK, rolloutJSON(ro))
}

// HandleProgress is GET /api/v1/rollouts/{rollout}/progress.
func (e *Engine) HandleProgress(w http.ResponseWriter, r *http.Request) {
	p, err := e.Progress(r.Context(), r.PathValue("rollout"))
	if err != nil {
		api.Error(w, err)
		return
	}
	out := ProgressJSON{Rollout: rolloutJSON(p.Rollout), Total: countsJSON(p.Total), Waves: make([]CountsJSON, len(p.Waves))}
	for i, w := range p.Waves {
		out.Waves[i] = countsJSON(w)
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandleDeliveries is GET /api/v1/rollouts/{rollout}/deliveries: every
// device of the rollout, by wave then device.
func (e *Engine) HandleDeliveries(w http.ResponseWriter, r *http.Request) {
	ds, err := e.st.Deliveries(r.Context(), r.PathValue("rollout"))
	if err != nil {
		api.Error(w, err)
		return
	}
	out := make([]DeliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = DeliveryJSON{Device: d.Device, Wave: d.Wave, State: string(d.State), Sends: d.Sends, Detail: d.Detail, Updated: d.Updated}
	}
	apijson.WriteJSON(w, http.StatusOK, out)
}

// HandlePause is POST /api/v1/rollouts/{rollout}/pause.
func (e *Engine) HandlePause(w http.ResponseWriter, r *http.Request) {
	e.action(w, r, func(id, reason string) (store.Rollout, error) { return e.Pause(r.Context(), id, reason) })
}

// HandleResume is POST /api/v1/rollouts/{rollout}/resume.
func (e *Engine) HandleResume(w http.ResponseWriter, r *http.Request) {
	e.action(w, r, func(id, _ string) (store.Rollout, error) { return e.Resume(r.Context(), id) })
}

// HandleCancel is POST /api/v1/rollouts/{rollout}/cancel.
func (e *Engine) HandleCancel(w http.ResponseWriter, r *http.Request) {
	e.action(w, r, func(id, reason string) (store.Rollout, error) { return e.Cancel(r.Context(), id, reason) })
}

// action reads the optional reason and runs act on the rollout.
func (e *Engine) action(w http.ResponseWriter, r *http.Request, act func(id, reason string) (store.Rollout, error)) {
	var req ActionRequest
	if !api.ReadOptional(w, r, MaxJSONBody, &req) {
		return
	}
	if len(req.Reason) > maxReason {
		api.Error(w, fmt.Errorf("%w: a reason of %d bytes, at most %d", ErrInvalid, len(req.Reason), maxReason))
		return
	}
	ro, err := act(r.PathValue("rollout"), req.Reason)
	if err != nil {
		api.Error(w, err)
		return
	}
	apijson.WriteJSON(w, http.StatusOK, rolloutJSON(ro))
}

// HandleSetTags is PUT /api/v1/devices/{device}/tags.
func (e *Engine) HandleSetTags(w http.ResponseWriter, r *http.Request) {
	var req TagsJSON
	if !api.Read(w, r, MaxJSONBody, &req) {
		return
	}
	if err := e.SetTags(r.Context(), r.PathValue("device"), req.Tags); err != nil {
		api.Error(w, err)
		return
	}
	e.HandleTags(w, r)
}

// HandleTags is GET /api/v1/devices/{device}/tags.
func (e *Engine) HandleTags(w http.ResponseWriter, r *http.Request) {
	tags, err := e.st.Tags(r.Context(), r.PathValue("device"))
	if err != nil {
		api.Error(w, err)
		return
	}
	if tags == nil {
		tags = []string{}
	}
	apijson.WriteJSON(w, http.StatusOK, TagsJSON{Tags: tags})
}

func rolloutJSON(r store.Rollout) Summary {
	return Summary{ID: r.ID, Group: r.Group, Release: r.Release, Waves: r.Waves, SuccessThreshold: r.SuccessThreshold,
		ErrorThreshold: r.ErrorThreshold, State: string(r.State), Wave: r.Wave, Reason: r.Reason, Created: r.Created, Updated: r.Updated}
}

func countsJSON(w store.WaveProgress) CountsJSON {
	return CountsJSON{Wave: w.Wave, Devices: w.Devices, Pending: w.Pending, Sent: w.Sent, Installed: w.Installed,
		Succeeded: w.Succeeded, Failed: w.Failed}
}

// statuses maps the engine's and the store's refusals onto their HTTP
// statuses and codes.
var statuses = apijson.Statuses{
	{Err: ErrInvalid, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: store.ErrInvalid, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: apijson.ErrMalformed, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: ErrEmptyGroup, Status: http.StatusConflict, Code: "empty_group"},
	{Err: ErrNotHeld, Status: http.StatusConflict, Code: "not_held"},
	{Err: ErrTooLargeForTEEP, Status: http.StatusRequestEntityTooLarge, Code: "too_large_for_teep"},
	{Err: store.ErrExists, Status: http.StatusConflict, Code: "exists"},
	{Err: store.ErrConflict, Status: http.StatusConflict, Code: "conflict"},
	{Err: store.ErrNotFound, Status: http.StatusNotFound, Code: "not_found"},
	{Err: apijson.ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
}

// api answers the engine handlers' errors.
var api = apijson.Responder{Statuses: statuses}

// StatusOf maps an error onto its HTTP status and code.
func StatusOf(err error) (int, string) { return statuses.Of(err) }
