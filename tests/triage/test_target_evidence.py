"""Read checks follow the object an alert names: kube-state-metrics alerts about a pod's sidecar and about a
failed Job, on the every-kind cluster, reach the failing container's words and the Job's own log line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.settings import Settings
from bot.triage.evidence import ReadChecks, plan, summarise
from tests.support.doors import make_door
from tools.base import Status

KSM = {"job": "kube-state-metrics", "service": "robusta-kube-state-metrics", "instance": "10.244.0.7:8080",
       "endpoint": "http", "severity": "warning"}


@pytest.fixture
def checks(every_kind_door_settings: Settings) -> ReadChecks:
    return ReadChecks(make_door(every_kind_door_settings))


def alert(name: str, **labels: str) -> Alert:
    labels = {"alertname": name, **KSM, **labels}
    return Alert(source="alertmanager", name=name, status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=datetime.now(UTC))


def texts(ev) -> str:  # noqa: ANN001
    return "\n".join(f"{line.check} {line.text}" for line in ev.lines)


def test_the_exporters_service_label_is_not_taken_for_a_deployment() -> None:
    a = alert("KubePodCrashLooping", namespace="shop", pod="web-5d8f7c9b4-abcde", container="log-shipper")
    tools = [(tool, args.get("name") or args.get("deployment") or args.get("pod")) for tool, args in plan(a)]
    assert ("k8s_describe", "web-5d8f7c9b4-abcde") in tools
    assert all("kube-state-metrics" not in str(target) for _, target in tools)


def test_a_crash_looping_sidecar_is_read_by_its_pod_and_container(checks: ReadChecks) -> None:
    ev = checks(alert("KubePodCrashLooping", namespace="shop", pod="web-5d8f7c9b4-abcde", container="log-shipper",
                      reason="CrashLoopBackOff"))
    text = texts(ev)
    assert "web-5d8f7c9b4-abcde log-shipper: CrashLoopBackOff; last exit 1 (Error)" in text
    assert ("web-5d8f7c9b4-abcde log-shipper (previous): ERROR [output:es] host es.logging:9200 unreachable"
            in text), "the previous container's last words, fetched because it restarted"
    assert "Readiness probe failed" in text, "the pod's own events"
    assert "k8s_describe(kind='Deployment', name='web', namespace='shop')" in text, "and its workload's state"


def test_a_failed_job_shows_its_reason_and_the_line_that_explains_it(checks: ReadChecks) -> None:
    ev = checks(alert("KubeJobFailed", namespace="batch", job_name="db-migrate", condition="true"))
    text = texts(ev)
    assert "Job/db-migrate: Failed (BackoffLimitExceeded)" in text
    assert "BackoffLimitExceeded: Job has reached the specified backoff limit" in text
    assert "All host(s) tried for db query failed (tried: prod-db:3333)" in text
    assert not [c for c in ev.could_not_run if "kube-state-metrics" in c]


def test_a_check_that_failed_is_never_an_evidence_line(down_door: Door, oncall: Caller) -> None:
    failed = down_door.run("k8s_list", {"namespace": "shop"}, oncall)
    assert failed.status == Status.error
    assert summarise(failed) == [], "listed under could_not_run, never shown as an 'ok' line"
