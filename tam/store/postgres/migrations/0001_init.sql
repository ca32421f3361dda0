-- The TAM's state on PostgreSQL, version 1 (the SQLite schema up to its
-- version 3, in PostgreSQL's types).
-- Times are BIGINT nanoseconds since 1970 UTC (timestamptz keeps only
-- microseconds), the zero time.Time as -9223372036854775808; sequence
-- numbers (uint64) are stored with their top bit flipped so that BIGINT
-- order is their order; lists are JSONB (codec.go), NULL for a nil list.

CREATE TABLE authors (
	name     TEXT COLLATE "C" PRIMARY KEY,
	kind     TEXT NOT NULL,
	key      BYTEA NOT NULL,
	prefixes JSONB,
	created  BIGINT NOT NULL
);

CREATE TABLE envelopes (
	digest     BYTEA PRIMARY KEY,
	kind       TEXT NOT NULL,
	components JSONB,
	seq        BIGINT NOT NULL,
	author     TEXT NOT NULL,
	device     TEXT NOT NULL,
	raw        BYTEA NOT NULL,
	payloads   JSONB,
	reference  BYTEA,
	published  BIGINT NOT NULL
);
CREATE INDEX envelopes_published ON envelopes (published, digest);

-- One row per (envelope, component) for LatestFor; component is the
-- identifier's key (each part: 4-byte big-endian length, then its bytes).
CREATE TABLE envelope_components (
	digest    BYTEA NOT NULL REFERENCES envelopes (digest),
	component BYTEA NOT NULL,
	PRIMARY KEY (component, digest)
);

CREATE TABLE payloads (
	digest BYTEA PRIMARY KEY,
	data   BYTEA NOT NULL
);

CREATE TABLE devices (
	id            TEXT COLLATE "C" PRIMARY KEY,
	name          TEXT NOT NULL,
	agent_key     BYTEA NOT NULL,
	agreement_key BYTEA,
	endorsement   BYTEA,
	reference     BYTEA,
	registered    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	att_time      BIGINT NOT NULL,
	att_status    TEXT NOT NULL,
	att_ear       BYTEA,
	att_reason    TEXT NOT NULL,
	tcs           JSONB,
	last_error    TEXT NOT NULL
);

CREATE TABLE sessions (
	token     BYTEA PRIMARY KEY,
	state     TEXT NOT NULL,
	device    TEXT NOT NULL,
	challenge BYTEA,
	numbering SMALLINT NOT NULL,
	envelopes JSONB,
	created   BIGINT NOT NULL,
	expires   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires);

CREATE TABLE reports (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	device       TEXT NOT NULL REFERENCES devices (id),
	time         BIGINT NOT NULL,
	success      BOOLEAN NOT NULL,
	envelopes    JSONB,
	suit_reports JSONB,
	err_code     BIGINT NOT NULL,
	err_msg      TEXT NOT NULL
);
CREATE INDEX reports_device_time ON reports (device, time, id);

CREATE TABLE principals (
	name          TEXT COLLATE "C" PRIMARY KEY,
	roles         JSONB,
	author        TEXT NOT NULL,
	password_hash BYTEA,
	created       BIGINT NOT NULL
);

CREATE TABLE tokens (
	id        TEXT COLLATE "C" PRIMARY KEY,
	principal TEXT NOT NULL REFERENCES principals (name),
	hash      BYTEA NOT NULL UNIQUE,
	created   BIGINT NOT NULL,
	expires   BIGINT NOT NULL,
	revoked   BIGINT NOT NULL
);
CREATE INDEX tokens_principal ON tokens (principal, created, id);

CREATE TABLE login_sessions (
	hash      BYTEA PRIMARY KEY,
	principal TEXT NOT NULL REFERENCES principals (name),
	csrf      BYTEA,
	created   BIGINT NOT NULL,
	expires   BIGINT NOT NULL
);

-- The audit trail is append-only for every role, the table's owner
-- included: triggers refuse UPDATE, DELETE and TRUNCATE, and an INSERT
-- whose seq the identity did not just give (OVERRIDING SYSTEM VALUE: a row
-- slipped in between, or onto a seq in use). Only the owner (or a
-- superuser) can drop the triggers, so the TAM should run as a role that
-- owns nothing (see the package documentation).
CREATE TABLE audit (
	seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time      BIGINT NOT NULL,
	principal TEXT NOT NULL,
	action    TEXT NOT NULL,
	target    TEXT NOT NULL,
	result    TEXT NOT NULL,
	detail    TEXT NOT NULL
);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE FUNCTION audit_seq_given() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	given BIGINT;
BEGIN
	BEGIN
		given := currval(pg_get_serial_sequence('audit', 'seq'));
	EXCEPTION WHEN object_not_in_prerequisite_state THEN
		given := NULL; -- no seq drawn in this session: the row brought its own
	END;
	IF given IS DISTINCT FROM NEW.seq THEN
		RAISE EXCEPTION 'audit is append-only: a row takes the seq it is given' USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_seq_given BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_seq_given();
