-- TA withdrawals, version 6: the TAs the TAM takes off every device.
-- component is the identifier's key (codec.go's componentKey), by which it
-- is found and ordered; parts is the identifier itself, a list of one.
CREATE TABLE withdrawals (
	component BLOB PRIMARY KEY,
	parts     BLOB NOT NULL,
	principal TEXT NOT NULL,
	created   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX withdrawals_created ON withdrawals (created, component);
