-- The TEEP session log (issue 15: a device's history), version 7: one row
-- per ended session, written in the transaction that ends it. Each device
-- keeps its newest store.MaxSessionLog rows; the transaction that adds one
-- drops the older. envelopes is a JSON array of digests.

CREATE TABLE session_log (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	device    TEXT NOT NULL REFERENCES devices (id),
	started   INTEGER NOT NULL,
	ended     INTEGER NOT NULL,
	numbering INTEGER NOT NULL,
	outcome   TEXT NOT NULL,
	detail    TEXT NOT NULL,
	envelopes BLOB
) STRICT;
CREATE INDEX session_log_device ON session_log (device, ended, id);
