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
        # A person's sign-in name; API tokens (`token:ci`) and Sluice itself (`sluice`, and
        # `system` for a rollout's automatic steps) are not people.
        actor = self._event().get("actor")
        if not actor or actor.startswith("token:") or actor in ("sluice", "system"):
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


def _build_schema(description, extra, required_extra):
    properties = {
        "dist": {"type": "string"},
        "build": {"type": "integer"},
        "branch": {"type": "string"},
        "version": {"type": "string"},
        "actor": {"type": "string"},
        "at": {"type": "integer", "description": "milliseconds since the epoch"},
    }
    properties.update(extra)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "description": description,
        "type": "object",
        "properties": properties,
        "required": ["dist", "build", "branch", "version", "actor", "at"] + required_extra,
    }


class BuildMessage(SluiceMessage):
    """A build of a dist was registered, published or withdrawn."""

    verb = ""

    @property
    def summary(self):
        b = self.body
        return f"{b['dist']} {b['version']} ({b['branch']}) {self.verb}"

    def __str__(self):
        b = self.body
        lines = [self.summary, "", f"Build: {b['build']}"]
        if b.get("boards"):
            lines.append(f"Boards: {', '.join(b['boards'])}")
        if b.get("channel"):
            lines.append(f"Channel: {b['channel']}")
        if b.get("reason"):
            lines.append(f"Reason: {b['reason']}")
        lines.append(f"By: {b['actor']}")
        return "\n".join(lines) + "\n"


class BuildRegisteredV1(BuildMessage):
    topic = "sluice.build.registered"
    verb = "registered"
    body_schema = _build_schema(
        "A build was registered",
        {"boards": {"type": "array", "items": {"type": "string"}}},
        ["boards"],
    )


class BuildPublishedV1(BuildMessage):
    topic = "sluice.build.published"
    verb = "published"
    body_schema = _build_schema(
        "A build became its channel's build", {"channel": {"type": "string"}}, ["channel"]
    )

    @property
    def summary(self):
        b = self.body
        return f"{b['dist']} {b['version']} published to {b['channel']}"


class BuildWithdrawnV1(BuildMessage):
    topic = "sluice.build.withdrawn"
    verb = "withdrawn"
    body_schema = _build_schema(
        "A build was withdrawn", {"reason": {"type": "string"}}, ["reason"]
    )


ROLLOUT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "description": "A line was added to a rollout's history",
    "type": "object",
    "properties": {
        "rollout": {"type": "integer"},
        "dist": {"type": "string"},
        "channel": {"type": "string"},
        "version": {"type": "string"},
        "action": {"type": "string"},
        "state": {"type": "string"},
        "step": {"type": "integer"},
        "percent": {"type": "number"},
        "reason": {"type": "string"},
        "actor": {"type": "string"},
        "at": {"type": "integer", "description": "milliseconds since the epoch"},
    },
    "required": [
        "rollout", "dist", "channel", "version", "action", "state", "step", "percent",
        "reason", "actor", "at",
    ],
}


class RolloutMessage(SluiceMessage):
    """A rollout was created, advanced, paused, resumed, halted, completed, rolled back, set
    to a percent or superseded; an automatic halt's reason carries its figures."""

    body_schema = ROLLOUT_SCHEMA

    @property
    def summary(self):
        r = self.body
        return (
            f"rollout {r['rollout']} of {r['dist']} {r['version']} to {r['channel']}: "
            f"{r['action']} ({r['state']}, {r['percent']:g}%)"
        )

    def __str__(self):
        r = self.body
        lines = [self.summary, "", f"Step: {r['step']}", f"By: {r['actor']}"]
        if r.get("reason"):
            lines.append(f"Reason: {r['reason']}")
        return "\n".join(lines) + "\n"


ROLLOUT_ACTIONS = [
    "create", "advance", "pause", "resume", "halt", "complete", "rollback", "percent",
    "supersede",
]

# One class per action, as fedora-messaging finds a schema by topic: RolloutCreateV1 …
for _action in ROLLOUT_ACTIONS:
    _name = f"Rollout{_action.capitalize()}V1"
    globals()[_name] = type(_name, (RolloutMessage,), {"topic": f"sluice.rollout.{_action}"})
