package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/teeup/teeup/tam/catalog"
)

// pagePath is path with a page's query: after when not empty, limit when
// positive (the TAM's default page otherwise).
func pagePath(path, after string, limit int) string {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// DevicePage is one page of the registered devices: those whose IDs sort
// after after (the first page when empty), up to limit (the TAM's
// default page when 0), and the next page's after.
func (c *Client) DevicePage(ctx context.Context, after string, limit int) (catalog.DeviceListJSON, error) {
	var out catalog.DeviceListJSON
	return out, c.Do(ctx, http.MethodGet, pagePath("/api/v1/devices", after, limit), nil, &out)
}

// Devices is every registered device, by ID, read page after page of
// limit devices (the TAM's default page when 0).
func (c *Client) Devices(ctx context.Context, limit int) ([]catalog.DeviceJSON, error) {
	var all []catalog.DeviceJSON
	err := walk(func(after string) (string, []string, error) {
		p, err := c.DevicePage(ctx, after, limit)
		ids := make([]string, 0, len(p.Devices))
		for _, d := range p.Devices {
			ids = append(ids, d.ID)
		}
		all = append(all, p.Devices...)
		return p.Next, ids, err
	})
	return all, err
}

// StatusPage is one page of the fleet's status: the devices whose IDs
// sort after after (the first page, with the fleet's summary, when
// empty), up to limit (the TAM's default page when 0), and the next
// page's after.
func (c *Client) StatusPage(ctx context.Context, after string, limit int) (catalog.StatusJSON, error) {
	var out catalog.StatusJSON
	return out, c.Do(ctx, http.MethodGet, pagePath("/api/v1/status", after, limit), nil, &out)
}

// Status is the whole fleet's status: the first page's summary and every
// device, by ID, read page after page of limit devices (the TAM's default
// page when 0). Next is empty.
func (c *Client) Status(ctx context.Context, limit int) (catalog.StatusJSON, error) {
	var all catalog.StatusJSON
	err := walk(func(after string) (string, []string, error) {
		p, err := c.StatusPage(ctx, after, limit)
		if after == "" {
			all.Summary = p.Summary
		}
		ids := make([]string, 0, len(p.Devices))
		for _, d := range p.Devices {
			ids = append(ids, d.ID)
		}
		all.Devices = append(all.Devices, p.Devices...)
		return p.Next, ids, err
	})
	if err == nil && all.Summary == nil {
		return all, fmt.Errorf("%w: status without its summary", ErrResponse)
	}
	return all, err
}

// walk reads pages from the first (after empty) while a page names a
// next one. Each page must hold devices sorting after the previous
// page's, by ID, and next must be its last: a TAM that answers otherwise
// would have the walk loop or skip devices, so it is refused
// (ErrResponse), as is a fleet of more than MaxDevices.
func walk(page func(after string) (next string, ids []string, err error)) error {
	after, total := "", 0
	for {
		next, ids, err := page(after)
		if err != nil {
			return err
		}
		prev := after
		for _, id := range ids {
			if id <= prev {
				return fmt.Errorf("%w: device %q out of order after %q", ErrResponse, id, prev)
			}
			prev = id
		}
		if total += len(ids); total > MaxDevices {
			return fmt.Errorf("%w: more than %d devices", ErrResponse, MaxDevices)
		}
		if next == "" {
			return nil
		}
		if len(ids) == 0 || next != ids[len(ids)-1] {
			return fmt.Errorf("%w: next page after %q, not after the page's last device", ErrResponse, next)
		}
		after = next
	}
}
