package rollout

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/tam/store"
)

// AddGroup stores a group after checking its selector reads: a version
// is a sequence number, a model the hex of an endorsement's hwmodel.
func (e *Engine) AddGroup(ctx context.Context, g store.Group) (store.Group, error) {
	if v := g.Selector.Version; v != "" {
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return store.Group{}, fmt.Errorf("%w: version %q is not a sequence number", ErrInvalid, v)
		}
	}
	if m := g.Selector.Model; m != "" {
		if _, err := hex.DecodeString(m); err != nil || strings.ToLower(m) != m {
			return store.Group{}, fmt.Errorf("%w: model %q is not lowercase hex", ErrInvalid, m)
		}
	}
	g.Created = e.cfg.Now()
	if err := e.st.AddGroup(ctx, g); err != nil {
		return store.Group{}, fmt.Errorf("rollout: group %q: %w", g.Name, err)
	}
	return g, nil
}

// Resolve is the devices group name holds now, by ID: its members, or the
// registered devices its selector matches.
func (e *Engine) Resolve(ctx context.Context, name string) ([]string, error) {
	g, err := e.st.Group(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("rollout: group %q: %w", name, err)
	}
	var ids []string
	if g.Members != nil {
		ids = slices.Sorted(slices.Values(g.Members))
	} else if ids, err = e.selected(ctx, g.Selector); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: group %q", ErrEmptyGroup, name)
	}
	return ids, nil
}

// selected is the registered devices sel matches, by ID.
func (e *Engine) selected(ctx context.Context, sel store.Selector) ([]string, error) {
	var tagged map[string]bool
	if sel.Tag != "" {
		ids, err := e.st.TaggedDevices(ctx, sel.Tag)
		if err != nil {
			return nil, fmt.Errorf("rollout: devices tagged %q: %w", sel.Tag, err)
		}
		tagged = make(map[string]bool, len(ids))
		for _, id := range ids {
			tagged[id] = true
		}
	}
	// Page by page, so that only one page of devices (their endorsements
	// with them) is held at a time, whatever the fleet.
	var out []string
	for after := ""; ; {
		devs, err := e.st.DevicePage(ctx, after, store.MaxPage)
		if err != nil {
			return nil, fmt.Errorf("rollout: devices after %q: %w", after, err)
		}
		for _, d := range devs {
			if (tagged == nil || tagged[d.ID]) && matchModel(d, sel.Model) && matchVersion(d, sel.Version) {
				out = append(out, d.ID)
			}
		}
		if len(devs) < store.MaxPage {
			return out, nil
		}
		after = devs[len(devs)-1].ID
	}
}

// Model is a device's hardware model: the hex of its endorsement's
// hwmodel; empty when its endorsement does not decode.
func Model(d store.Device) string {
	end, err := comid.DecodeEndorsement(d.Endorsement)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(end.Class.HWModel)
}

func matchModel(d store.Device, model string) bool {
	if model == "" {
		return true
	}
	return Model(d) == model
}

// matchVersion: the device last reported running some component at that
// sequence number.
func matchVersion(d store.Device, version string) bool {
	if version == "" {
		return true
	}
	seq, err := strconv.ParseUint(version, 10, 64)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(d.TCs, func(tc store.InstalledTC) bool { return tc.SequenceNumber == seq })
}

// AddRelease stores a release of held envelopes (TAs and firmware; not a
// personalization, which is one device's) whose TAs, and whose firmware,
// each fit in one TEEP Update.
func (e *Engine) AddRelease(ctx context.Context, name string, digests [][]byte) (store.Release, error) {
	envs := make([]store.Envelope, 0, len(digests))
	for _, d := range digests {
		env, err := e.st.Envelope(ctx, d)
		switch {
		case errors.Is(err, store.ErrInvalid):
			return store.Release{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		case err != nil:
			return store.Release{}, fmt.Errorf("rollout: release %q: envelope %x: %w", name, d, err)
		case !env.Held || env.Device != "" || env.Kind == store.PersonalizationEnvelope:
			return store.Release{}, fmt.Errorf("%w: release %q: envelope %x (publish it held)", ErrNotHeld, name, d)
		}
		envs = append(envs, env)
	}
	if err := fitsOneUpdate(name, envs); err != nil {
		return store.Release{}, err
	}
	r := store.Release{Name: name, Envelopes: digests, Created: e.cfg.Now()}
	if err := e.st.AddRelease(ctx, r); err != nil {
		return store.Release{}, fmt.Errorf("rollout: release %q: %w", name, err)
	}
	return r, nil
}

// SetTags replaces a device's tags.
func (e *Engine) SetTags(ctx context.Context, device string, tags []string) error {
	if err := e.st.SetTags(ctx, device, tags); err != nil {
		return fmt.Errorf("rollout: tags of %q: %w", device, err)
	}
	return nil
}
