-- The fleet (issue 15), version 2: held envelopes, device tags, groups,
-- releases, rollouts and their per-device deliveries. The lists of these
-- tables (members, envelope digests, wave sizes) are JSONB arrays.

ALTER TABLE envelopes ADD COLUMN held BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE device_tags (
	device TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
	tag    TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (device, tag)
);
CREATE INDEX device_tags_tag ON device_tags (tag, device);

-- members is NULL for a group by selector.
CREATE TABLE device_groups (
	name    TEXT COLLATE "C" PRIMARY KEY,
	members JSONB,
	model   TEXT NOT NULL,
	version TEXT NOT NULL,
	tag     TEXT NOT NULL,
	created BIGINT NOT NULL
);

CREATE TABLE releases (
	name      TEXT COLLATE "C" PRIMARY KEY,
	envelopes JSONB NOT NULL,
	created   BIGINT NOT NULL
);

CREATE TABLE rollouts (
	id                TEXT COLLATE "C" PRIMARY KEY,
	grp               TEXT NOT NULL,
	release           TEXT NOT NULL REFERENCES releases (name),
	waves             JSONB NOT NULL,
	success_threshold INTEGER NOT NULL,
	error_threshold   INTEGER NOT NULL,
	state             TEXT NOT NULL,
	wave              INTEGER NOT NULL,
	reason            TEXT NOT NULL,
	created           BIGINT NOT NULL,
	updated           BIGINT NOT NULL
);
CREATE INDEX rollouts_created ON rollouts (created, id);

-- token is NULL while the delivery is pending.
CREATE TABLE deliveries (
	rollout TEXT COLLATE "C" NOT NULL REFERENCES rollouts (id),
	device  TEXT COLLATE "C" NOT NULL REFERENCES devices (id),
	wave    INTEGER NOT NULL,
	state   TEXT NOT NULL,
	token   BYTEA,
	sends   INTEGER NOT NULL,
	detail  TEXT NOT NULL,
	updated BIGINT NOT NULL,
	PRIMARY KEY (rollout, device)
);
CREATE INDEX deliveries_device ON deliveries (device, rollout);
CREATE INDEX deliveries_wave ON deliveries (rollout, wave, device);
