package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/teeup/teeup/tam/rollout"
)

// The fleet's methods (issue 15): groups, releases, rollouts, device tags.

// AddGroup makes a group: members, or a selector.
func (c *Client) AddGroup(ctx context.Context, req rollout.GroupRequest) (rollout.GroupJSON, error) {
	var out rollout.GroupJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/groups", req, &out)
}

// Groups are every group.
func (c *Client) Groups(ctx context.Context) ([]rollout.GroupJSON, error) {
	var out []rollout.GroupJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/groups", nil, &out)
}

// Group is a group with the devices it resolves to now.
func (c *Client) Group(ctx context.Context, name string) (rollout.GroupJSON, error) {
	var out rollout.GroupJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/groups/"+url.PathEscape(name), nil, &out)
}

// AddRelease makes a release of held envelopes (SHA-256 digests in hex).
func (c *Client) AddRelease(ctx context.Context, req rollout.ReleaseRequest) (rollout.ReleaseJSON, error) {
	var out rollout.ReleaseJSON
	return out, c.Do(ctx, http.MethodPost, "/api/v1/releases", req, &out)
}

// Releases are every release.
func (c *Client) Releases(ctx context.Context) ([]rollout.ReleaseJSON, error) {
	var out []rollout.ReleaseJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/releases", nil, &out)
}

// CreateRollout starts a rollout.
func (c *Client) CreateRollout(ctx context.Context, req rollout.CreateRequest) (rollout.Summary, error) {
	var out rollout.Summary
	return out, c.Do(ctx, http.MethodPost, "/api/v1/rollouts", req, &out)
}

// Rollouts are every rollout.
func (c *Client) Rollouts(ctx context.Context) ([]rollout.Summary, error) {
	var out []rollout.Summary
	return out, c.Do(ctx, http.MethodGet, "/api/v1/rollouts", nil, &out)
}

// Rollout is one rollout.
func (c *Client) Rollout(ctx context.Context, id string) (rollout.Summary, error) {
	var out rollout.Summary
	return out, c.Do(ctx, http.MethodGet, "/api/v1/rollouts/"+url.PathEscape(id), nil, &out)
}

// Progress is a rollout's progress per wave and in all.
func (c *Client) Progress(ctx context.Context, id string) (rollout.ProgressJSON, error) {
	var out rollout.ProgressJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/rollouts/"+url.PathEscape(id)+"/progress", nil, &out)
}

// Deliveries are a rollout's devices, by wave then device.
func (c *Client) Deliveries(ctx context.Context, id string) ([]rollout.DeliveryJSON, error) {
	var out []rollout.DeliveryJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/rollouts/"+url.PathEscape(id)+"/deliveries", nil, &out)
}

// PauseRollout pauses a running rollout.
func (c *Client) PauseRollout(ctx context.Context, id, reason string) (rollout.Summary, error) {
	return c.rolloutAction(ctx, id, "pause", reason)
}

// ResumeRollout resumes a paused rollout.
func (c *Client) ResumeRollout(ctx context.Context, id string) (rollout.Summary, error) {
	return c.rolloutAction(ctx, id, "resume", "")
}

// CancelRollout cancels a rollout for good.
func (c *Client) CancelRollout(ctx context.Context, id, reason string) (rollout.Summary, error) {
	return c.rolloutAction(ctx, id, "cancel", reason)
}

func (c *Client) rolloutAction(ctx context.Context, id, action, reason string) (rollout.Summary, error) {
	var out rollout.Summary
	return out, c.Do(ctx, http.MethodPost, "/api/v1/rollouts/"+url.PathEscape(id)+"/"+action, rollout.ActionRequest{Reason: reason}, &out)
}

// SetTags replaces a device's tags.
func (c *Client) SetTags(ctx context.Context, device string, tags []string) (rollout.TagsJSON, error) {
	if tags == nil {
		tags = []string{}
	}
	var out rollout.TagsJSON
	return out, c.Do(ctx, http.MethodPut, "/api/v1/devices/"+url.PathEscape(device)+"/tags", rollout.TagsJSON{Tags: tags}, &out)
}

// Tags are a device's tags.
func (c *Client) Tags(ctx context.Context, device string) (rollout.TagsJSON, error) {
	var out rollout.TagsJSON
	return out, c.Do(ctx, http.MethodGet, "/api/v1/devices/"+url.PathEscape(device)+"/tags", nil, &out)
}
