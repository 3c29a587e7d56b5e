"""Redis may restart: workers recover by themselves, and with persistence nothing accepted is lost.

A real redis-server of the test's own (AOF, appendfsync everysec, as the sandbox runs it) is restarted while
alerts keep arriving over HTTP; every alert the webhook answered 2xx must get its incident and its card, and
the pending action and audit trail from before the restart must still be there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from bot.cards.poster import ConsolePoster
from bot.intake.fingerprint import fingerprint
from bot.intake.pipeline import Pipeline
from bot.settings import Settings
from bot.wiring import redis_durability
from sandbox import procs, redis_server
from tests.support.alerting import pipeline, post_storm, quiet_settings, serving, storm_labels, wait_for
from tests.support.doors import make_door, propose_scale


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = procs.free_port()
    redis_server.start(tmp_path, port)
    yield tmp_path, port
    procs.stop("redis", tmp_path)


def on_redis(settings: Settings, port: int) -> Settings:
    return quiet_settings(settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": f"redis://127.0.0.1:{port}/0", "timeout_s": 1.0})}), alertmanager_token=None)


def has_card(p: Pipeline, i: int) -> bool:
    incident = p.incidents.by_fingerprint(fingerprint("alertmanager", storm_labels(i)))
    return incident is not None and p.cards.get(p.groups.card_of(incident.id) if p.groups else incident.id) is not None


def test_the_sandbox_redis_persists_and_never_evicts(own_redis: tuple[Path, int]) -> None:
    _, port = own_redis
    assert redis_durability(redis.Redis(port=port, decode_responses=True)) == []


def test_a_redis_that_keeps_nothing_or_evicts_is_warned_about(own_redis: tuple[Path, int]) -> None:
    _, port = own_redis
    client = redis.Redis(port=port, decode_responses=True)
    client.config_set("appendonly", "no")
    client.config_set("maxmemory-policy", "allkeys-lru")
    problems = redis_durability(client)
    assert len(problems) == 2
    assert "keeps nothing on disk" in problems[0] and "maxmemory-policy allkeys-lru" in problems[1]


def test_readiness_fails_while_the_consumer_group_is_gone(settings: Settings, own_redis: tuple[Path, int]) -> None:
    _, port = own_redis
    p = pipeline(on_redis(settings, port), ConsolePoster())
    with serving(p) as server:  # no worker runs, so nothing recreates the group behind the check
        p.stream.ensure_group()
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        redis.Redis(port=port).flushall()  # a restart without persistence: stream, group, incidents gone
        assert httpx.get(f"{server.url}/readyz").status_code == 503


def test_workers_recreate_their_group_when_redis_comes_back_empty(settings: Settings,
                                                                  own_redis: tuple[Path, int]) -> None:
    _, port = own_redis
    s = on_redis(settings, port)
    p = pipeline(s, ConsolePoster())
    with serving(p, workers=2) as server:
        assert post_storm(server.url, 0) == 200
        wait_for(lambda: has_card(p, 0), 20, "the first card")
        redis.Redis(port=port).flushall()  # a restart without persistence: stream, group, incidents gone
        assert post_storm(server.url, 1) == 200
        wait_for(lambda: has_card(p, 1), 20, "a card after the group was lost")
        assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}


def test_a_redis_restart_mid_storm_loses_no_accepted_alert(mutable_settings: Settings,
                                                           own_redis: tuple[Path, int]) -> None:
    state, port = own_redis
    s = on_redis(mutable_settings, port)
    door = make_door(s)
    action_id = propose_scale(door)
    p = pipeline(s, ConsolePoster(), door=door)
    accepted: list[int] = []
    refused = 0
    with serving(p, workers=2) as server:
        for i in range(60):
            if i == 30:
                procs.stop("redis", state)  # SIGTERM: Redis flushes its AOF and exits
                for j in range(30, 33):  # while it is down: refused with 503, so the sender retries
                    refused += post_storm(server.url, 1000 + j) != 200
                redis_server.start(state, port)
            if post_storm(server.url, i) == 200:
                accepted.append(i)
        assert refused == 3
        assert len(accepted) == 60
        for i in accepted:
            wait_for(lambda i=i: has_card(p, i), 30, f"the card of accepted alert storm-{i}")
    assert door.gate.store.get(action_id) is not None, "the pending action did not survive the restart"
    kinds = [r.kind for r in door.audit.query()]
    assert "decision" in kinds and "tool_call" in kinds
