-- The TAM's state, version 1.
-- Times are INTEGER nanoseconds since 1970 UTC, the zero time.Time as
-- -9223372036854775808; sequence numbers (uint64) are stored with their top
-- bit flipped so that INTEGER order is their order; lists are BLOBs in the
-- encoding of lists.go.

CREATE TABLE authors (
	name     TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	key      BLOB NOT NULL,
	prefixes BLOB,
	created  INTEGER NOT NULL
) STRICT;

CREATE TABLE envelopes (
	digest     BLOB PRIMARY KEY,
	kind       TEXT NOT NULL,
	components BLOB,
	seq        INTEGER NOT NULL,
	author     TEXT NOT NULL,
	device     TEXT NOT NULL,
	raw        BLOB NOT NULL,
	payloads   BLOB,
	reference  BLOB,
	published  INTEGER NOT NULL
) STRICT;

-- One row per (envelope, component) for LatestFor; component is the
-- identifier's key (each part: 4-byte big-endian length, then its bytes).
CREATE TABLE envelope_components (
	digest    BLOB NOT NULL REFERENCES envelopes (digest),
	component BLOB NOT NULL,
	PRIMARY KEY (component, digest)
) STRICT, WITHOUT ROWID;

CREATE TABLE payloads (
	digest BLOB PRIMARY KEY,
	data   BLOB NOT NULL
) STRICT;

CREATE TABLE devices (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	agent_key   BLOB NOT NULL,
	endorsement BLOB,
	reference   BLOB,
	registered  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	att_time    INTEGER NOT NULL,
	att_status  TEXT NOT NULL,
	att_ear     BLOB,
	att_reason  TEXT NOT NULL,
	tcs         BLOB,
	last_error  TEXT NOT NULL
) STRICT;

CREATE TABLE sessions (
	token     BLOB PRIMARY KEY,
	state     TEXT NOT NULL,
	device    TEXT NOT NULL,
	challenge BLOB,
	numbering INTEGER NOT NULL,
	envelopes BLOB,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE reports (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	device       TEXT NOT NULL REFERENCES devices (id),
	time         INTEGER NOT NULL,
	success      INTEGER NOT NULL,
	envelopes    BLOB,
	suit_reports BLOB,
	err_code     INTEGER NOT NULL,
	err_msg      TEXT NOT NULL
) STRICT;
CREATE INDEX reports_device_time ON reports (device, time, id);

CREATE TABLE principals (
	name          TEXT PRIMARY KEY,
	roles         BLOB,
	author        TEXT NOT NULL,
	password_hash BLOB,
	created       INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	id        TEXT PRIMARY KEY,
	principal TEXT NOT NULL REFERENCES principals (name),
	hash      BLOB NOT NULL UNIQUE,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL,
	revoked   INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_principal ON tokens (principal, created, id);

CREATE TABLE login_sessions (
	hash      BLOB PRIMARY KEY,
	principal TEXT NOT NULL REFERENCES principals (name),
	csrf      BLOB,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL
) STRICT;

-- The audit trail is append-only for everyone who opens the file, not
-- only for this code.
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY AUTOINCREMENT,
	time      INTEGER NOT NULL,
	principal TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	result    TEXT NOT NULL,
	detail    TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: DELETE refused');
END;
