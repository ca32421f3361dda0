package catalog

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/teeup/teeup/tam/store"
)

// The device list and the status are paged by device ID: a page is the
// devices whose IDs sort after the previous page's last, so that neither
// reads the whole fleet and a page stays right while devices register.

// ParsePage reads a page request's after and limit (GET
// /api/v1/status, GET /api/v1/devices): after empty or a device ID,
// limit absent (DefaultPage) or a positive number, clamped to MaxPage.
// Anything else is ErrInvalid.
func ParsePage(q url.Values) (after string, limit int, err error) {
	after, limit = q.Get("after"), DefaultPage
	if after != "" {
		if err := CheckDeviceID(after); err != nil {
			return "", 0, fmt.Errorf("after: %w", err)
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return "", 0, fmt.Errorf("%w: limit %q: a positive number", ErrInvalid, s)
		}
		limit = min(n, MaxPage)
	}
	return after, limit, nil
}

// CheckDeviceID refuses (ErrInvalid) what cannot be a device's ID: the
// lowercase hex of its thumbprint (DeviceID), within the store's key
// bound.
func CheckDeviceID(id string) error {
	if id == "" || len(id) > store.MaxKey {
		return fmt.Errorf("%w: device ID of %d characters", ErrInvalid, len(id))
	}
	for _, c := range []byte(id) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: device ID %q is not lowercase hex", ErrInvalid, id)
		}
	}
	return nil
}

// DevicePage is up to limit (1 to MaxPage) devices whose IDs sort after
// after, by ID, and next: the after of the following page, empty when no
// device follows. It reads one page and one ID beyond it, never the
// fleet.
func DevicePage(ctx context.Context, st store.FleetStatus, after string, limit int) (devs []store.Device, next string, err error) {
	if limit <= 0 || limit > MaxPage {
		return nil, "", fmt.Errorf("%w: page of %d devices, want 1 to %d", ErrInvalid, limit, MaxPage)
	}
	if devs, err = st.DevicePage(ctx, after, limit); err != nil {
		return nil, "", storeErr(err)
	}
	if len(devs) < limit {
		return devs, "", nil
	}
	// A full page: the next one exists only if a device sorts after its
	// last, which one more row says, so no client is sent to an empty page.
	last := devs[len(devs)-1].ID
	more, err := st.DevicePage(ctx, last, 1)
	if err != nil {
		return nil, "", storeErr(err)
	}
	if len(more) == 0 {
		return devs, "", nil
	}
	return devs, last, nil
}
