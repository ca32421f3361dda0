-- The fleet status query (issue 15), version 5: FleetSummary counts from
-- indexes and kept counts, never by reading every device's row.

-- The never-seen, failing and last-error counts are read from these
-- partial indexes alone (each covers its query): their size is the
-- devices never seen, and the devices with an error.
CREATE INDEX devices_never_seen ON devices (id) WHERE last_seen = -9223372036854775808;
CREATE INDEX devices_last_error ON devices (last_error, last_seen) WHERE last_error <> '';

-- The number of devices by attestation status (every device has one, so
-- their sum is the number of devices), kept by triggers whoever writes
-- the devices. A status no device holds any more keeps its row, at 0.
CREATE TABLE attestation_counts (
	status  TEXT PRIMARY KEY,
	devices INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO attestation_counts (status, devices) SELECT att_status, count(*) FROM devices GROUP BY att_status;
CREATE TRIGGER devices_count_insert AFTER INSERT ON devices
BEGIN
	INSERT INTO attestation_counts (status, devices) VALUES (NEW.att_status, 1)
		ON CONFLICT (status) DO UPDATE SET devices = devices + 1;
END;
CREATE TRIGGER devices_count_update AFTER UPDATE OF att_status ON devices
WHEN NEW.att_status IS NOT OLD.att_status
BEGIN
	UPDATE attestation_counts SET devices = devices - 1 WHERE status = OLD.att_status;
	INSERT INTO attestation_counts (status, devices) VALUES (NEW.att_status, 1)
		ON CONFLICT (status) DO UPDATE SET devices = devices + 1;
END;
CREATE TRIGGER devices_count_delete AFTER DELETE ON devices
BEGIN
	UPDATE attestation_counts SET devices = devices - 1 WHERE status = OLD.att_status;
END;

-- The number of devices whose tc-list holds each (component, sequence
-- number), kept by AddDevice and RecordTCs in the transaction that changes
-- the tc-list (versions.go); component is the identifier's key (as in
-- envelope_components), name its String(), the summary's order. A row
-- whose count falls to 0 is deleted (a device is never deleted: a method
-- that comes to delete one must count its tc-list out). The migration's Go step
-- (fillVersionCounts) counts the tc-lists already stored.
CREATE TABLE version_counts (
	component BLOB NOT NULL,
	seq       INTEGER NOT NULL,
	name      TEXT NOT NULL,
	devices   INTEGER NOT NULL,
	PRIMARY KEY (component, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX version_counts_name ON version_counts (name, seq);
