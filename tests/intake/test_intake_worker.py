"""The durable stream and the workers: dedup, resolution, flapping, crash-and-reclaim, idempotent effects."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.cards import strings as S
from bot.cards.poster import ConsolePoster
from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.pipeline import Pipeline
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.settings import Settings
from bot.triage.evidence import Evidence, ReadChecks
from bot.triage.triage import Proposal
from bot.wiring import redis_client
from tests.support.alerting import pipeline, quiet_settings, serving, wait_for
from tests.support.doors import make_door

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout", "severity": "critical"}


@pytest.fixture
def s(settings: Settings) -> Settings:
    return quiet_settings(settings, flap_threshold=3)


def post(url: str, *alerts: dict) -> httpx.Response:
    r = httpx.post(f"{url}/webhooks/alertmanager", content=encode(am_payload(list(alerts))))
    assert r.status_code == 200, r.text
    return r


def drain(p: Pipeline, name: str = "w") -> int:
    """Run one worker until the stream has nothing new or pending for it."""
    w = p.worker(name)
    p.stream.ensure_group()
    total = 0
    while n := w.step(block_ms=None):
        total += n
    return total


def test_a_storm_of_one_alert_makes_one_incident_and_one_card(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with serving(p) as server:
        for i in range(40):  # distinct payloads (annotations differ) so none is a transport duplicate
            post(server.url, am_alert(LABELS, {"summary": f"crash-looping, sample {i}"}, starts_at=t0))
    drain(p)
    assert len(poster.posts()) == 1 and not poster.updates()
    incident = p.incidents.by_fingerprint(fingerprint("alertmanager", LABELS))
    assert incident and incident.count == 40 and incident.status == "firing"
    assert p.incidents.count() == 1


def test_a_heartbeat_opens_no_incident_and_is_counted_as_the_pipeline_alive(s: Settings) -> None:
    """kube-prometheus' Watchdog fires forever on purpose: it proves alerting works, so it is no incident."""
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p) as server:
        post(server.url, am_alert({"alertname": "Watchdog", "severity": "none", "prometheus": "monitoring/k8s"}),
             am_alert(LABELS))
    before = datetime.now(UTC).timestamp()
    assert drain(p) == 2
    after = datetime.now(UTC).timestamp()
    [card] = poster.posts()
    assert "Watchdog" not in card.card.title and p.incidents.count() == 1
    assert p.incidents.by_fingerprint(fingerprint("alertmanager", {"alertname": "Watchdog", "severity": "none",
                                                                   "prometheus": "monitoring/k8s"})) is None
    seen = p.metrics.registry.get_sample_value("opsbot_heartbeat_timestamp_seconds", {"alertname": "Watchdog"})
    assert seen is not None and before <= seen <= after


def test_resolution_edits_the_card_and_a_refire_reopens_it(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with serving(p) as server:
        post(server.url, am_alert(LABELS, starts_at=t0))
        drain(p)
        post(server.url, am_alert(LABELS, status="resolved", starts_at=t0, ends_at=t0 + timedelta(minutes=1)))
        drain(p)
        [first] = poster.posts()
        [edit] = poster.updates()
        assert edit.message_id == first.message_id and edit.card.status == "resolved"
        assert edit.card.resolved_at is not None
        post(server.url, am_alert(LABELS, starts_at=t0 + timedelta(minutes=2)))
        drain(p)
    assert len(poster.posts()) == 1
    assert [u.card.status for u in poster.updates()] == ["resolved", "firing"]
    assert poster.updates()[-1].incident_id == first.incident_id


def test_flapping_is_recognised_and_said_once(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    t = datetime.now(UTC) - timedelta(minutes=30)
    with serving(p) as server:
        for i in range(6):
            start = t + timedelta(minutes=4 * i)
            post(server.url, am_alert(LABELS, starts_at=start))
            post(server.url, am_alert(LABELS, status="resolved", starts_at=start, ends_at=start + timedelta(minutes=2)))
            drain(p)
    last = poster.history[-1].card
    flapping = [n for n in last.notices if n.startswith("flapping")]
    assert len(flapping) == 1 and "3 firing↔resolved changes" in flapping[0]
    said = [h for h in poster.history if any(n.startswith("flapping") for n in h.card.notices)]
    assert said[0].card.notices.count(flapping[0]) == 1
    assert len(poster.posts()) == 1 and p.incidents.count() == 1


def test_out_of_order_resolution_does_not_leave_a_firing_incident(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    fired = Alert(source="alertmanager", name="X", status="firing", severity="P0", labels=LABELS,
                  fingerprint=fingerprint("alertmanager", LABELS), starts_at=t0)
    resolved = fired.model_copy(update={"status": "resolved", "ends_at": t0 + timedelta(minutes=1)})
    assert p.incidents.observe("2-0", resolved).kind == "orphan"
    assert p.incidents.observe("1-0", fired).kind == "stale"
    assert p.incidents.count() == 0


def test_a_worker_that_crashes_mid_delivery_loses_nothing_and_repeats_nothing(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p) as server:
        post(server.url, am_alert(LABELS), am_alert({**LABELS, "service": "cart"}),
             am_alert({**LABELS, "service": "payment"}))
    p.stream.ensure_group()
    # worker A reads the delivery (one entry) and applies its first alert's effects, then dies before acknowledging
    a = p.worker("worker-a")
    [entry] = p.stream.read("worker-a", count=10, block_ms=None)
    assert entry.alerts is not None and len(entry.alerts) == 3
    a.apply(*entry.keys()[0])
    assert len(poster.posts()) == 1 and p.stream.stats()["pending"] == 1
    # worker B reclaims what A left pending (XAUTOCLAIM) and applies every alert of it
    b = p.worker("worker-b")
    assert b.reclaim() == 3
    assert p.stream.stats()["pending"] == 0
    assert len(poster.posts()) == 1  # one card for the group: A's card was edited, not posted again
    assert {g.incident_id for g in p.cards.get("inc-1").group} == {"inc-1", "inc-2", "inc-3"}
    assert [p.incidents.get(f"inc-{i}").count for i in (1, 2, 3)] == [1, 1, 1], "the replay counted no repeat"
    assert drain(p, "worker-c") == 0


def test_a_poison_entry_goes_to_the_dead_letter_stream(s: Settings) -> None:
    p = pipeline(s, ConsolePoster())
    p.stream.ensure_group()
    p.stream.client.xadd(p.stream.stream, {"alert": "{not json"})
    assert drain(p) == 1
    assert p.stream.stats()["dead"] == 1 and p.stream.stats()["pending"] == 0


def test_an_entry_failing_every_time_is_buried_after_max_attempts(s: Settings) -> None:
    class Broken(ConsolePoster):
        def post(self, card):  # type: ignore[no-untyped-def]
            raise RuntimeError("chat is down")

    settings = s.model_copy(update={"intake": s.intake.model_copy(update={"reclaim_idle_s": 0, "max_attempts": 2})})
    p = pipeline(settings, Broken())
    with serving(p) as server:
        post(server.url, am_alert(LABELS))
    w = p.worker("w")
    p.stream.ensure_group()
    for _ in range(4):
        w.step(block_ms=None)
    assert p.stream.stats()["dead"] == 1
    assert p.stream.stats()["pending"] == 0


def test_workers_in_threads_process_a_burst_without_loss(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    with serving(p, workers=3) as server:
        for i in range(20):
            post(server.url, *[am_alert({**LABELS, "pod": f"pod-{j}"}, {"n": str(i)}) for j in range(10)])
        wait_for(lambda: p.stream.stats()["pending"] == 0 and sum(
            1 for _ in poster.posts()) == 1 and p.incidents.get("inc-10") and
            p.incidents.get("inc-10").count + sum(p.incidents.get(f"inc-{k}").count for k in range(1, 10)) == 200,
            20, "200 alerts over 10 fingerprints processed")
    [posted] = poster.posts()  # one group: one card, each pod's alert a line on it
    assert p.incidents.count() == 10
    assert sorted(g.subject for g in p.cards.get(posted.incident_id).group) == sorted(
        f"Pod shop/pod-{j}" for j in range(10))


def test_a_backend_down_is_named_on_the_card(s: Settings, down_settings: Settings) -> None:
    poster = ConsolePoster()
    door = make_door(down_settings)
    p = pipeline(s, poster, door=door, collect=ReadChecks(door))
    with serving(p) as server:
        post(server.url, am_alert(LABELS, generator_url="http://prom/graph?g0.expr=up%3D%3D0"))
    drain(p)
    [posted] = poster.posts()
    problems = "\n".join(posted.card.could_not_run)
    assert "could not reach" in problems
    for check in ("k8s_list", "logs_search", "prom_query"):
        assert check in problems, check


def test_a_model_timeout_still_posts_the_evidence_card(s: Settings) -> None:
    release = threading.Event()

    def slow_model(alert: Alert, ev: Evidence) -> None:
        release.wait(30)

    poster = ConsolePoster()
    p = pipeline(s, poster, analyse=slow_model, analyse_timeout_s=0.2)
    try:
        with serving(p) as server:
            post(server.url, am_alert(LABELS))
        drain(p)
    finally:
        release.set()
    [posted] = poster.posts()
    assert posted.card.analysis is None
    assert posted.card.analysis_note == S.ANALYSIS_LATE.format(seconds=0.2), "the card does not wait for it"
    assert posted.card.evidence


def test_proposals_become_pending_actions_whose_ids_the_card_carries(s: Settings, mutable_settings: Settings) -> None:
    poster = ConsolePoster()
    door = make_door(mutable_settings)

    def playbook_actions(alert: Alert, ev: Evidence, analysis: object) -> list[Proposal]:
        return [Proposal(tool="k8s_rollout_restart", args={"namespace": "shop", "deployment": "checkout"},
                         why="playbook: crashloopbackoff"),
                Proposal(tool="k8s_scale", args={"namespace": "kube-system", "deployment": "coredns",
                                                 "replicas": 3})]

    p = pipeline(s, poster, door=door, propose=playbook_actions)
    with serving(p) as server:
        post(server.url, am_alert(LABELS))
    drain(p)
    [posted] = poster.posts()
    restart, scale = posted.card.actions
    assert restart.status == "pending" and restart.action_id and "operator" in restart.reason
    pending = door.gate.store.get(restart.action_id)
    assert pending and pending.incident == posted.incident_id and pending.requester == "opsbot:triage"
    assert scale.status == "denied" and "protected" in scale.reason and scale.action_id is None
    assert p.metrics.actions.labels("k8s_rollout_restart", "approval_required")._value.get() == 1


def restart_checkout(alert: Alert, ev: Evidence, analysis: object) -> list[Proposal]:
    return [Proposal(tool="k8s_rollout_restart", args={"namespace": "shop", "deployment": "checkout"})]


def test_a_resolution_withdraws_the_actions_nobody_approved(s: Settings, mutable_settings: Settings) -> None:
    poster = ConsolePoster()
    door = make_door(mutable_settings)

    p = pipeline(s, poster, door=door, propose=restart_checkout)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    with serving(p) as server:
        post(server.url, am_alert(LABELS, starts_at=t0))
        drain(p)
        [posted] = poster.posts()
        action_id = posted.card.actions[0].action_id
        post(server.url, am_alert(LABELS, status="resolved", starts_at=t0, ends_at=t0 + timedelta(minutes=1)))
        drain(p)
    [edit] = poster.updates()
    assert edit.card.actions[0].status == "expired"
    assert edit.card.actions[0].outcome == "withdrawn: the incident resolved before anyone approved it"
    assert door.gate.store.pending() == [] and door.gate.store.get(action_id).state != "pending"


def test_a_triage_retried_after_a_crash_reuses_its_proposals(s: Settings, mutable_settings: Settings) -> None:
    poster = ConsolePoster()
    door = make_door(mutable_settings)

    p = pipeline(s, poster, door=door, propose=restart_checkout)
    with serving(p) as server:
        post(server.url, am_alert(LABELS))
    p.stream.ensure_group()
    [entry] = p.stream.read("worker-a", count=10, block_ms=None)
    [(key, alert)] = entry.keys()
    obs = p.incidents.observe(key, alert)
    first = p.triage.card(alert, obs.incident, made_from=key)  # worker A proposed, then died
    assert len(door.gate.store.pending()) == 1 and poster.posts() == []
    assert p.worker("worker-b").reclaim() == 1
    [posted] = poster.posts()
    assert [a.action_id for a in posted.card.actions] == [a.action_id for a in first.actions]
    assert door.gate.store.pending() == [first.actions[0].action_id]  # one approvable action: the card's


def test_incident_window_expiry_opens_a_new_incident(settings: Settings) -> None:
    clock = [datetime.now(UTC)]
    store = IncidentStore(redis_client(settings), f"test:{uuid.uuid4().hex}:", window_s=60, flap_threshold=3,
                          now=lambda: clock[0])
    a = Alert(source="alertmanager", name="X", status="firing", severity="P2", labels={"a": "1"},
              fingerprint="f1", starts_at=clock[0])
    assert store.observe("1-0", a).kind == "new"
    assert store.observe("2-0", a).kind == "repeat"
    clock[0] += timedelta(seconds=120)
    later = store.observe("3-0", a)
    assert later.kind == "new" and later.incident == "inc-2"


def test_consumer_names_are_this_host_and_process(settings: Settings) -> None:
    import os
    import socket

    from bot.intake.pipeline import build_pipeline

    p = build_pipeline(settings, [ConsolePoster()], prefix=f"test:{uuid.uuid4().hex}:")
    p.start_workers(2, warm=False)
    try:
        names = sorted(t.name for t in p.threads)
    finally:
        p.stop_workers()
    mine = f"{socket.gethostname()}-{os.getpid()}"
    assert names == [f"{mine}-0", f"{mine}-1"], "two replicas never share a consumer name"


def test_alerts_alertmanager_left_out_are_said_on_the_card_and_counted(s: Settings) -> None:
    poster = ConsolePoster()
    p = pipeline(s, poster)
    payload = am_payload([am_alert(LABELS)])
    payload["truncatedAlerts"] = 7  # the receiver's max_alerts cut the group
    with serving(p) as server:
        r = httpx.post(f"{server.url}/webhooks/alertmanager", content=encode(payload))
        assert r.status_code == 200 and r.json()["truncated_alerts"] == 7
        metrics = httpx.get(f"{server.url}/metrics").text
    drain(p)
    [posted] = poster.posts()
    assert S.GROUP_TRUNCATED.format(count=7) in posted.card.notices
    assert "opsbot_alertmanager_truncated_alerts_total 7.0" in metrics


def test_an_entry_stored_before_deliveries_is_still_triaged(s: Settings) -> None:
    """An upgrade finds entries the previous version stored, one alert each: they are read, not dead-lettered."""
    poster = ConsolePoster()
    p = pipeline(s, poster)
    p.stream.ensure_group()
    alert = Alert(source="alertmanager", name="KubePodCrashLooping", status="firing", severity="P0", labels=LABELS,
                  fingerprint=fingerprint("alertmanager", LABELS), starts_at=datetime.now(UTC))
    p.stream.client.xadd(p.stream.stream, {"alert": alert.model_dump_json()})
    assert drain(p) == 1
    [posted] = poster.posts()
    assert posted.card.labels == LABELS and p.stream.stats()["dead"] == 0
