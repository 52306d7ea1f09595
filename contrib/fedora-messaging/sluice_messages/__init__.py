"""fedora-messaging schemas for the messages Sluice publishes."""

from fedora_messaging.message import Message

RELEASE_EVENT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "description": "A release of a dist entered or left a state",
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "dist": {"type": "string"},
        "release": {"type": "string"},
        "state": {"type": "string"},
        "action": {"type": "string", "enum": ["entered", "left"]},
        "at": {"type": "string"},
        "recorded_at": {"type": "string"},
        "actor": {"type": "string"},
        "note": {"type": "string"},
        "was_in_state": {"type": "boolean"},
    },
    "required": ["id", "dist", "release", "state", "action", "at", "recorded_at", "was_in_state"],
}


class SluiceMessage(Message):
    """What every Sluice message has in common."""

    @property
    def app_name(self):
        return "sluice"

    @property
    def agent_name(self):
        # A person's sign-in name; API tokens (`token:ci`) and Sluice itself are not people.
        actor = self._event().get("actor")
        if not actor or actor.startswith("token:") or actor == "sluice":
            return None
        return actor

    @property
    def usernames(self):
        return [self.agent_name] if self.agent_name else []

    def _event(self):
        return self.body


class ReleaseStateMessage(SluiceMessage):
    """A release entered or left a state (seed 004's release stream)."""

    body_schema = RELEASE_EVENT_SCHEMA

    @property
    def summary(self):
        e = self.body
        return f"{e['dist']} {e['release']} {e['action']} {e['state']}"

    def __str__(self):
        e = self.body
        lines = [
            self.summary,
            "",
            f"When: {e['at']} (recorded {e['recorded_at']})",
            f"Was in the state just before: {'yes' if e['was_in_state'] else 'no'}",
        ]
        if e.get("actor"):
            lines.append(f"By: {e['actor']}")
        if e.get("note"):
            lines.append(f"Note: {e['note']}")
        return "\n".join(lines) + "\n"


class ReleaseStateEnteredV1(ReleaseStateMessage):
    topic = "sluice.release.state.entered"


class ReleaseStateLeftV1(ReleaseStateMessage):
    topic = "sluice.release.state.left"


class RuleFiredV1(SluiceMessage):
    """A rule of a dist fired on a release event and queued its webhook."""

    topic = "sluice.rule.fired"
    body_schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "description": "A release rule fired",
        "type": "object",
        "properties": {
            "rule": {"type": "integer"},
            "dist": {"type": "string"},
            "event": RELEASE_EVENT_SCHEMA,
        },
        "required": ["rule", "dist", "event"],
    }

    def _event(self):
        return self.body["event"]

    @property
    def summary(self):
        e = self.body["event"]
        return (
            f"rule {self.body['rule']} fired: {e['dist']} {e['release']} {e['action']} {e['state']}"
        )

    def __str__(self):
        return self.summary + "\n"
