"""Two `opsbot serve` replicas on one Redis, as an Alertmanager HA pair sees them: both Alertmanagers notify,
each to another replica, and every alert is still one incident and one card; both replicas' workers take
part, under consumer names of their own; they share one Chroma server (knowledge.chroma_url)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.stream import AlertStream
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.polling import poll
from sandbox import chroma_server, procs
from sandbox.manager import Sandbox
from tests.support.fake_telegram import FakeTelegram, running
from tests.support.serve_process import config_file, post_alerts, serving

ROOM = -100888
ALERTS = [  # kube-prometheus alert names, each its own group (grouped by alertname)
    {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q",
     "severity": "critical"},
    {"alertname": "KubeDeploymentReplicasMismatch", "namespace": "shop", "deployment": "checkout",
     "severity": "warning"},
    {"alertname": "KubePodNotReady", "namespace": "shop", "pod": "cart-5c7d9b8f4-abcde", "severity": "warning"},
    {"alertname": "KubeContainerWaiting", "namespace": "shop", "pod": "checkout-7d9f8c6b5-x2x9q", "container": "app",
     "severity": "warning"},
    {"alertname": "KubeJobFailed", "namespace": "shop", "job_name": "nightly-report", "severity": "warning"},
    {"alertname": "KubeHpaMaxedOut", "namespace": "shop", "horizontalpodautoscaler": "checkout",
     "severity": "warning"},
]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


def test_two_replicas_make_one_incident_and_one_card_per_alert(sandbox: Sandbox, fake: FakeTelegram,
                                                               tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    knowledge = {"chroma_url": chroma_server.start(tmp_path, procs.free_port())}  # shared, as replicas must
    telegram = {"bot_token": fake.token, "base_url": fake.base_url,  # type: ignore[attr-defined]
                "allowed_chat_ids": [ROOM], "alert_chat_id": ROOM}
    with ExitStack() as stack:
        stack.callback(procs.stop, chroma_server.NAME, tmp_path)
        replicas = [stack.enter_context(serving(*config_file(sandbox, tmp_path / f"replica-{i}.yaml", prefix,
                                                             telegram=telegram, knowledge=knowledge),
                                                 "--workers", "2"))
                    for i in range(2)]
        for labels in ALERTS:
            for n, replica in enumerate(replicas):  # each Alertmanager of the pair notifies its own way in
                payload = am_payload([am_alert(labels, {"summary": f"{labels['alertname']} in shop"})],
                                     external_url=f"http://alertmanager-{n}:9093")
                r = post_alerts(replica.base, payload)
                assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        def posted() -> list[Any]:  # the cards: the messages that reply to none (their threads reply to them)
            return [c for c in fake.made("sendMessage") if c.error is None and not c.args.get("reply_parameters")
                    and str(c.args.get("chat_id")) == str(ROOM)]

        cards = poll(lambda: posted() if len(posted()) >= len(ALERTS) else None, 120, 0.2)
        client = redis.Redis.from_url(yaml.safe_load(sandbox.settings_file.read_text())["redis"]["url"])
        stream = AlertStream(client, prefix)
        assert poll(lambda: client.xpending(stream.stream, stream.group)["pending"] == 0 or None, 60, 0.2)
        consumers = {c["name"].decode() for c in client.xinfo_consumers(stream.stream, stream.group)}
    for labels in ALERTS:
        named = f"alert <code>{labels['alertname']}</code>"  # the header quotes the alert's own name
        assert sum("FIRING · " in c.args["text"] and named in c.args["text"] for c in cards) == 1, labels["alertname"]
    assert len(posted()) == len(ALERTS), "no card posted twice"
    incidents = IncidentStore(client, prefix, 3600, 5)
    assert incidents.count() == len(ALERTS)
    for labels in ALERTS:  # the second notification of each alert counted on the same incident
        assert incidents.by_fingerprint(fingerprint("alertmanager", labels)).count == 2, labels["alertname"]
    pids = {name.rsplit("-", 2)[-2] for name in consumers}
    assert len(pids) == 2, f"both replicas' workers consumed, each under its own names: {consumers}"
    for replica in replicas:
        assert replica.proc.returncode in (0, -15), replica.output
