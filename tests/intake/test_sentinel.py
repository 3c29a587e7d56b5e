"""Beyond one Redis: Sentinel failover mid-storm, and Redis over TLS (a managed Redis's rediss:// URL).

Real redis-servers on loopback: a primary, its replica and three sentinels. The primary is SIGKILLed while
a storm of alerts is in flight; the sentinels promote the replica, opsbot's webhook and workers follow them,
and every alert ends in exactly one incident, above all those the webhook answered 2xx before the crash.
`redis.wait_replicas` is what makes that true: a 2xx waits for the replica to hold the alert (WAIT), since
replication is asynchronous and the promoted replica would not have an alert only the dead primary had.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
from pydantic import ValidationError

from bot.cards.poster import ConsolePoster
from bot.intake.fingerprint import fingerprint
from bot.intake.pipeline import Pipeline
from bot.intake.stream import stream_key
from bot.settings import RedisSettings, Settings
from bot.wiring import redis_client
from sandbox import procs
from tests.support.alerting import pipeline, post_storm, quiet_settings, serving, storm_labels, wait_for
from tests.support.redis_topology import Tls, sentinel_set, tls_server

STORM = 120


def on(redis_settings: RedisSettings) -> Settings:
    return quiet_settings(Settings(redis=redis_settings), alertmanager_open=True)


def incident_of(p: Pipeline, i: int) -> str | None:
    incident = p.incidents.by_fingerprint(fingerprint("alertmanager", storm_labels(i)))
    return incident.id if incident else None


def accepted_on_retry(url: str, refused: list[int]) -> bool:
    """Post every refused alert again, as Alertmanager retries a 5xx; True once none is refused any more."""
    refused[:] = [i for i in refused if post_storm(url, i) != 200]
    return not refused


def test_a_failover_mid_storm_loses_no_alert_answered_2xx(tmp_path: Path) -> None:
    with sentinel_set(tmp_path) as rs:
        p = pipeline(on(rs.settings(wait_replicas=1)), ConsolePoster())
        with serving(p, workers=2) as server, ThreadPoolExecutor(8) as senders:
            answers = [senders.submit(post_storm, server.url, i) for i in range(STORM)]
            wait_for(lambda: sum(a.done() and a.result() == 200 for a in answers) >= STORM // 3, 60,
                     "a third of the storm answered 2xx")
            procs.kill("primary", rs.state)  # a crash with requests in flight: nothing flushed, nothing handed over
            first_answers = [a.result() for a in answers]
            wait_for(lambda: rs.primary_named() == {rs.replica}, 30, "the sentinels to promote the replica")

            promoted, stream = rs.node(rs.replica), stream_key(p.prefix)
            stored = promoted.xlen(stream)
            assert post_storm(server.url, STORM) == 503, "only the new primary holds it: no replica confirmed it"
            assert promoted.xlen(stream) == stored + 1

            rs.start_primary("--replicaof", "127.0.0.1", str(rs.replica))  # back, as the new primary's replica
            wait_for(lambda: rs.replicas_online(rs.replica), 30, "the old primary to sync as a replica")
            refused = [i for i, status in enumerate(first_answers) if status != 200] + [STORM]
            wait_for(lambda: accepted_on_retry(server.url, refused), 60, "every refused alert accepted on a retry")
            wait_for(lambda: p.incidents.count() >= STORM + 1, 60, "an incident for every alert")

            acked_before_the_crash = [i for i, status in enumerate(first_answers) if status == 200]
            assert acked_before_the_crash and all(incident_of(p, i) for i in acked_before_the_crash)
            incidents = {incident_of(p, i) for i in range(STORM + 1)}
            assert None not in incidents and len(incidents) == p.incidents.count() == STORM + 1, "one each"


def test_sentinels_and_nodes_over_tls_take_an_alert_to_its_incident(tmp_path: Path) -> None:
    with sentinel_set(tmp_path, Tls.make(tmp_path / "tls")) as rs:
        p = pipeline(on(rs.settings(wait_replicas=1)), ConsolePoster())
        with serving(p, workers=1) as server:
            assert post_storm(server.url, 0) == 200
            wait_for(lambda: incident_of(p, 0), 20, "the incident, stored through the sentinels over TLS")
        assert rs.node(rs.replica).xlen(stream_key(p.prefix)) == 1, "answered 2xx once the replica held it"


def test_a_rediss_url_carries_the_alert_chain_and_checks_the_certificate(tmp_path: Path) -> None:
    with tls_server(tmp_path) as (port, tls):
        url = f"rediss://127.0.0.1:{port}/0"
        p = pipeline(on(RedisSettings(url=f"{url}?ssl_ca_certs={tls.cert}", timeout_s=1.0)), ConsolePoster())
        with serving(p, workers=1) as server:
            assert post_storm(server.url, 0) == 200
            wait_for(lambda: incident_of(p, 0), 20, "the incident, stored over TLS")
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            redis_client(on(RedisSettings(url=url, timeout_s=1.0))).ping()  # no CA given: a stranger's cert


@pytest.mark.parametrize("bad, says", [
    ({"sentinels": ["10.0.0.1"]}, "a sentinel is host:port"),
    ({"sentinels": ["10.0.0.1:sentinel"]}, "a sentinel is host:port"),
    ({"wait_replicas": 1, "wait_timeout_s": 2.0, "timeout_s": 2.0}, "wait_timeout_s must be shorter"),
])
def test_a_sentinel_or_wait_mistake_fails_at_start_up(bad: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        RedisSettings(**bad)
