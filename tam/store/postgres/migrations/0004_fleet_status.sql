-- The fleet status query (issue 15), version 4: FleetSummary counts from
-- kept counts and partial indexes, never by reading every device's row.

-- The never-seen and failing counts are read from these partial indexes
-- alone: their size is the devices never seen, and the devices with an
-- error.
CREATE INDEX devices_never_seen ON devices (id) WHERE last_seen = '-9223372036854775808'::bigint;
CREATE INDEX devices_failing ON devices (last_seen) WHERE last_error <> '';

-- The number of devices by attestation status (every device has one, so
-- their sum is the number of devices), kept by a trigger whoever writes
-- the devices. A status no device holds any more keeps its row, at 0.
CREATE TABLE attestation_counts (
	status  TEXT COLLATE "C" PRIMARY KEY,
	devices BIGINT NOT NULL
);
INSERT INTO attestation_counts (status, devices) SELECT att_status, count(*) FROM devices GROUP BY att_status;

-- A device moving between two statuses takes their rows in status order,
-- so that two transactions moving devices between the same statuses never
-- wait for each other in a cycle.
CREATE FUNCTION count_attestations() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO attestation_counts AS c (status, devices) VALUES (NEW.att_status, 1)
			ON CONFLICT (status) DO UPDATE SET devices = c.devices + 1;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE attestation_counts SET devices = devices - 1 WHERE status = OLD.att_status;
	ELSIF OLD.att_status COLLATE "C" < NEW.att_status COLLATE "C" THEN
		UPDATE attestation_counts SET devices = devices - 1 WHERE status = OLD.att_status;
		INSERT INTO attestation_counts AS c (status, devices) VALUES (NEW.att_status, 1)
			ON CONFLICT (status) DO UPDATE SET devices = c.devices + 1;
	ELSIF OLD.att_status COLLATE "C" > NEW.att_status COLLATE "C" THEN
		INSERT INTO attestation_counts AS c (status, devices) VALUES (NEW.att_status, 1)
			ON CONFLICT (status) DO UPDATE SET devices = c.devices + 1;
		UPDATE attestation_counts SET devices = devices - 1 WHERE status = OLD.att_status;
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER devices_count_attestations AFTER INSERT OR DELETE OR UPDATE OF att_status ON devices
	FOR EACH ROW EXECUTE FUNCTION count_attestations();

-- The number of devices by last error (empty: none), kept by a trigger
-- whoever writes the devices, under the SHA-256 of the error's text (the
-- text, up to 4 KiB, is more than a B-tree entry may hold); a row whose
-- count falls to 0 is deleted. A device moving between two errors takes
-- their rows in hash order.
CREATE TABLE error_counts (
	hash    BYTEA PRIMARY KEY,
	error   TEXT COLLATE "C" NOT NULL,
	devices BIGINT NOT NULL
);
INSERT INTO error_counts (hash, error, devices)
	SELECT sha256(convert_to(last_error, 'UTF8')), last_error, count(*) FROM devices WHERE last_error <> '' GROUP BY last_error;

CREATE FUNCTION count_error(err TEXT, n INTEGER) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF err = '' THEN
		RETURN;
	END IF;
	INSERT INTO error_counts AS c (hash, error, devices) VALUES (sha256(convert_to(err, 'UTF8')), err, n)
		ON CONFLICT (hash) DO UPDATE SET devices = c.devices + excluded.devices;
	IF n < 0 THEN
		DELETE FROM error_counts WHERE hash = sha256(convert_to(err, 'UTF8')) AND devices <= 0;
	END IF;
END;
$$;

CREATE FUNCTION count_errors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM count_error(NEW.last_error, 1);
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM count_error(OLD.last_error, -1);
	ELSIF NEW.last_error IS DISTINCT FROM OLD.last_error THEN
		IF sha256(convert_to(OLD.last_error, 'UTF8')) < sha256(convert_to(NEW.last_error, 'UTF8')) THEN
			PERFORM count_error(OLD.last_error, -1);
			PERFORM count_error(NEW.last_error, 1);
		ELSE
			PERFORM count_error(NEW.last_error, 1);
			PERFORM count_error(OLD.last_error, -1);
		END IF;
	END IF;
	RETURN NULL;
END;
$$;
-- Row triggers fire by name: attestations before errors, the order every
-- transaction takes their rows in.
CREATE TRIGGER devices_count_errors AFTER INSERT OR DELETE OR UPDATE OF last_error ON devices
	FOR EACH ROW EXECUTE FUNCTION count_errors();

-- The number of devices whose tc-list holds each (component, sequence
-- number), kept by AddDevice and RecordTCs in the transaction that changes
-- the tc-list (versions.go), which take the rows in key order; component
-- is the identifier's key (as in envelope_components), component_hash its
-- SHA-256 (the key, up to 4 KiB, is more than a B-tree entry may hold),
-- name its String(), the summary's order. A row whose count falls to 0 is
-- deleted (a device is never deleted: a method that comes to delete one
-- must count its tc-list out). The migration's Go step (fillVersionCounts)
-- counts the tc-lists already stored.
CREATE TABLE version_counts (
	component_hash BYTEA NOT NULL,
	seq            BIGINT NOT NULL,
	component      BYTEA NOT NULL,
	name           TEXT COLLATE "C" NOT NULL,
	devices        BIGINT NOT NULL,
	PRIMARY KEY (component_hash, seq)
);
