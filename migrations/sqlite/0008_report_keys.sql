-- A dist's optional report key (its SHA-256, hex): when set, device reports must carry it.
ALTER TABLE dists ADD COLUMN report_key_hash TEXT;
