-- The rollout job looks for open offers past their timeout on every pass, on every replica:
-- an index keeps that from reading every device of the rollout.
CREATE INDEX rollout_devices_open ON rollout_devices (rollout_id, status, offered_at);
