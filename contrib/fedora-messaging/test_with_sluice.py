"""A real Sluice publishing to a real RabbitMQ, read back with fedora-messaging's own code:
every message is found in the schema registry as this package's class, validates, and reads
well. Run by `make test` (through test.sh); exits non-zero on the first failure."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pika
from fedora_messaging import message as fm_message

import sluice_messages

AMQP_URL = os.environ.get("SLUICE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
BIN = os.environ["SLUICE_BIN"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as answer:
        return answer.status, answer.read()


def main():
    tmp = tempfile.mkdtemp(prefix="sluice-fm-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{tmp}/sluice.db",
        SLUICE_LISTEN=f"127.0.0.1:{port}",
        SLUICE_AMQP_URL=AMQP_URL,
        SLUICE_WEBHOOK_ALLOW="127.0.0.1",
        RUST_LOG="warn",
    )
    token = subprocess.run(
        [BIN, "token", "create", "--name", "fm", "--role", "admin"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]

    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    queue = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=queue, exchange="amq.topic", routing_key="sluice.#")

    server = subprocess.Popen([BIN, "serve"], env=env)
    try:
        for _ in range(200):
            try:
                if request(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("sluice did not start")

        # The dist's first event creates it; then a webhook (to a closed port: its delivery is
        # not what is tested) and a rule, so that the rule's own message is published too.
        status, _ = request(f"{base}/event?dist=fedora&release=33&state=active&reached=1", "POST", token)
        assert status == 201, status
        status, body = request(f"{base}/api/v1/webhooks", "POST", token, {"url": "http://127.0.0.1:9/hook"})
        webhook = json.loads(body)["webhook"]["id"]
        request(f"{base}/api/v1/rules", "POST", token,
                {"dist": "fedora", "state": "branched",
                 "action": {"kind": "webhook", "webhook_id": webhook}})
        for query in ["release=34&state=branched&reached=1", "release=34&state=branched&reached=0"]:
            status, _ = request(f"{base}/event?dist=fedora&{query}", "POST", token)
            assert status == 201, status

        # A build registered and published: their messages too. Publishing is a rollout of one
        # step, so it is told as a rollout created as well.
        status, _ = request(f"{base}/api/v1/dists", "POST", token, {
            "name": "recalbox", "version_scheme": "dated", "stable_channel": "stable",
            "stable_branch": "master"})
        assert status == 201, status
        version = "master-2026-01-01-1"
        status, _ = request(f"{base}/api/v1/builds", "POST", token, {
            "dist": "recalbox", "branch": "master", "version": version,
            "base_url": f"https://{version}.example",
            "boards": {"rpi3": {"files": [
                {"name": "root.tar.gz", "size": 1024, "sha256": "a" * 64}]}}})
        assert status == 201, status
        status, _ = request(f"{base}/api/v1/channels/recalbox/stable/publish", "POST", token,
                            {"version": version})
        assert status == 200, status

        received = []
        deadline = time.time() + 20
        while len(received) < 7 and time.time() < deadline:
            method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
            if method is None:
                time.sleep(0.1)
                continue
            received.append(fm_message.get_message(method.routing_key, properties, body))
    finally:
        server.terminate()
        server.wait(timeout=10)
        connection.close()

    kinds = sorted(type(m).__name__ for m in received)
    assert kinds == [
        "BuildPublishedV1", "BuildRegisteredV1",
        "ReleaseStateEnteredV1", "ReleaseStateEnteredV1", "ReleaseStateLeftV1",
        "RolloutCreateV1", "RuleFiredV1",
    ], kinds
    for m in received:
        # Found in the registry, not the base class, and its body matches its schema.
        assert isinstance(m, sluice_messages.SluiceMessage), type(m)
        m.validate()
        assert m.app_name == "sluice"
        assert m.agent_name is None, "an API token is not a person"
        print(f"{m.topic}: {m.summary}")
    entered = next(
        m for m in received
        if isinstance(m, sluice_messages.ReleaseStateEnteredV1) and m.body["release"] == "34"
    )
    assert entered.summary == "fedora 34 entered branched", entered.summary
    assert "Was in the state just before: no" in str(entered), str(entered)
    left = next(m for m in received if isinstance(m, sluice_messages.ReleaseStateLeftV1))
    assert left.summary == "fedora 34 left branched", left.summary
    published = next(m for m in received if isinstance(m, sluice_messages.BuildPublishedV1))
    assert published.summary == "recalbox master-2026-01-01-1 published to stable", published.summary
    rollout = next(m for m in received if isinstance(m, sluice_messages.RolloutMessage))
    assert rollout.summary.endswith(
        "of recalbox master-2026-01-01-1 to stable: create (running, 100%)"
    ), rollout.summary
    print("fedora-messaging reads every Sluice message with its schema")


if __name__ == "__main__":
    main()
