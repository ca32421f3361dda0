package fwu

import "time"

// DefaultStallTimeout is how long an install set may make no progress (no
// envelope joins it, no chunk arrives, no payload finishes) before the
// service abandons it by itself, as if cancelled: a normal world that died
// or forgot its update must not block every later one. It is long enough
// for one chunk over a slow link, and short enough that a device is not
// jammed for long. Config.StallTimeout overrides it.
const DefaultStallTimeout = 2 * time.Minute
