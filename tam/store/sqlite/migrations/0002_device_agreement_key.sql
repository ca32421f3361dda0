-- The device's key-agreement key (PKIX DER), that personalization data is
-- encrypted to; NULL when not registered.
ALTER TABLE devices ADD COLUMN agreement_key BLOB;
