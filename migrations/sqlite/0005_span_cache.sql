-- The views now read a dist's spans once into memory and reuse them until the stream grows, so
-- the per-pair probe table and the index on leaving times are no longer read.
DROP TABLE release_pairs;
DROP INDEX release_state_spans_left;
