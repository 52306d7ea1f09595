-- Every replica keeps each dist's timeline in memory. On PostgreSQL a new event tells every
-- listening replica which dist changed, whoever wrote it (a server, `sluice events import`, a
-- hand-written INSERT), so a replica need not ask for the dist's newest event on each view.
-- One notice per dist per statement (PostgreSQL also folds equal notices of one transaction).
CREATE FUNCTION sluice_release_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sluice_release_events', changed.dist_id::text)
    FROM (SELECT DISTINCT dist_id FROM new_events) AS changed;
    RETURN NULL;
END
$$;

CREATE TRIGGER release_events_notify AFTER INSERT ON release_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION sluice_release_events_notify();
