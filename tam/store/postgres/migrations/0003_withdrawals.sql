-- TA withdrawals, version 3: the TAs the TAM takes off every device.
-- component is the identifier's key (codec.go's componentKey), by which it
-- is found and ordered; parts is the identifier itself, a list of one.
CREATE TABLE withdrawals (
	component BYTEA PRIMARY KEY,
	parts     JSONB NOT NULL,
	principal TEXT COLLATE "C" NOT NULL,
	created   BIGINT NOT NULL
);
CREATE INDEX withdrawals_created ON withdrawals (created, component);
