-- The fleet (issue 15), version 4: held envelopes, device tags, groups,
-- releases, rollouts and their per-device deliveries. The lists of these
-- tables (members, envelope digests, wave sizes) are JSON arrays.

ALTER TABLE envelopes ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

CREATE TABLE device_tags (
	device TEXT NOT NULL REFERENCES devices (id),
	tag    TEXT NOT NULL,
	PRIMARY KEY (device, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_tags_tag ON device_tags (tag, device);

-- members is NULL for a group by selector.
CREATE TABLE device_groups (
	name    TEXT PRIMARY KEY,
	members BLOB,
	model   TEXT NOT NULL,
	version TEXT NOT NULL,
	tag     TEXT NOT NULL,
	created INTEGER NOT NULL
) STRICT;

CREATE TABLE releases (
	name      TEXT PRIMARY KEY,
	envelopes BLOB NOT NULL,
	created   INTEGER NOT NULL
) STRICT;

CREATE TABLE rollouts (
	id                TEXT PRIMARY KEY,
	grp               TEXT NOT NULL,
	release           TEXT NOT NULL REFERENCES releases (name),
	waves             BLOB NOT NULL,
	success_threshold INTEGER NOT NULL,
	error_threshold   INTEGER NOT NULL,
	state             TEXT NOT NULL,
	wave              INTEGER NOT NULL,
	reason            TEXT NOT NULL,
	created           INTEGER NOT NULL,
	updated           INTEGER NOT NULL
) STRICT;
CREATE INDEX rollouts_created ON rollouts (created, id);

-- token is NULL while the delivery is pending.
CREATE TABLE deliveries (
	rollout TEXT NOT NULL REFERENCES rollouts (id),
	device  TEXT NOT NULL REFERENCES devices (id),
	wave    INTEGER NOT NULL,
	state   TEXT NOT NULL,
	token   BLOB,
	sends   INTEGER NOT NULL,
	detail  TEXT NOT NULL,
	updated INTEGER NOT NULL,
	PRIMARY KEY (rollout, device)
) STRICT, WITHOUT ROWID;
CREATE INDEX deliveries_device ON deliveries (device, rollout);
CREATE INDEX deliveries_wave ON deliveries (rollout, wave, device);
