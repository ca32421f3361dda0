package auth

import "time"

// Bounds of what the gate reads and keeps. A request over a body bound is
// refused with 413 before its handler parses it.
const (
	// MaxJSONBody bounds the body of an operator API request that carries
	// JSON (authors, devices, users, tokens).
	MaxJSONBody = 64 << 10
	// MaxPublishBody bounds a publish request: an envelope and its
	// detached payloads in one body (tam/catalog.MaxPublishBody: the gate
	// cuts no body the handler would take).
	MaxPublishBody = 96 << 20
	// MaxDeviceBody bounds a device registration: its endorsement and
	// reference values (tam/catalog.MaxJSONBody).
	MaxDeviceBody = 3 << 20
	// MaxPersonalizeBody bounds a personalization: its data
	// (tam/catalog.MaxPersonalization) in base64 inside JSON.
	MaxPersonalizeBody = 2 << 20
	// MaxFleetBody bounds a group, release, rollout or tags request
	// (tam/rollout.MaxJSONBody: a group of 10,000 devices by name).
	MaxFleetBody = 1 << 20
	// MaxTEEPBody bounds one TEEP message posted to /tam. Agents on small
	// devices keep theirs far below this (secure/teep's limits).
	MaxTEEPBody = 256 << 10
	// MaxFormBody bounds a dashboard form (login, logout).
	MaxFormBody = 8 << 10
	// MaxNoBody bounds requests that carry no body (GET, revoke).
	MaxNoBody = 1 << 10

	// MaxTokenLen bounds an API token as presented; a longer one is
	// refused without hashing it.
	MaxTokenLen = 256
	// MaxNextLen bounds the page a login returns to (NextParam).
	MaxNextLen = 2 << 10
	// MaxCookieLen bounds a session cookie's value.
	MaxCookieLen = 128
	// MaxNameLen bounds a principal's name.
	MaxNameLen = 64
	// MinPasswordLen and MaxPasswordLen bound a dashboard password; the
	// upper bound keeps the hash's input (and its cost) bounded.
	MinPasswordLen = 12
	MaxPasswordLen = 1024

	// maxHashTime and maxHashMemory (KiB) bound the costs a stored
	// password hash may name: one naming more is refused rather than
	// computed (a store row must not make a login cost minutes).
	maxHashTime   = 16
	maxHashMemory = 1 << 20

	// MaxAuditPage bounds the entries one GET /api/v1/audit returns.
	MaxAuditPage = 1000
	// DefaultTokenLifetime is a token's lifetime when none is asked;
	// MaxTokenLifetime the longest one may ask.
	DefaultTokenLifetime = 720 * time.Hour
	MaxTokenLifetime     = 8760 * time.Hour
	// SessionLifetime is how long a dashboard login lasts.
	SessionLifetime = 12 * time.Hour

	// MaxRateSources bounds the sources a rate limiter remembers; past
	// it, unseen sources share one limiter (a flood of fresh addresses
	// then throttles only itself and the other unseen ones).
	MaxRateSources = 10000
	// MaxRatePerSecond and MaxBurst bound a configured rate (NewRate):
	// far past what one source needs (a fleet simulated from one
	// address), and within what a token bucket counts exactly.
	MaxRatePerSecond = 1e6
	MaxBurst         = 1 << 20

	// maxAgeDelete is the cookie Max-Age that tells a browser to drop
	// the cookie at once (logout).
	maxAgeDelete = -1
)

// The slow-client bounds of the TAM's http.Server (see HardenServer).
const (
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, a publish of
	// MaxPublishBody included.
	ReadTimeout = 2 * time.Minute
	// WriteTimeout bounds writing a response: a long poll (at most
	// MaxPollWait in tam/teepsrv, far below this) or a payload download
	// (which resumes with Range when cut).
	WriteTimeout   = 5 * time.Minute
	IdleTimeout    = 2 * time.Minute
	MaxHeaderBytes = 16 << 10
)
