"""A rollback by mechanism, not by timing: a release fits the failure when what it changed in the failing
container is what the failure follows from, however long before the symptom (a memory limit lowered five hours
before the peak OOM-kills the pods; a sidecar added without a CPU request blinds the HPA); a release that
changed nothing the failure involves is never proposed, and the card says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from tools.base import Status, ToolResult
from tools.k8s_revisions import Revision, plan

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def _alert(**labels: str) -> Alert:
    labels = {"alertname": "KubePodCrashLooping", "namespace": "pay", **labels}
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _described(**data: Any) -> ToolResult:
    return ToolResult(tool="k8s_describe", status=Status.success, invocation="k8s_describe", data=data)


def _container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def _deployment(*templates: tuple[timedelta, list[dict[str, Any]]], name: str = "ledger") -> ToolResult:
    """`name` with one revision per (age, containers) — containers as `what_matters` gives them (snake_case)."""
    rows = [Revision(i + 1, f"{name}-{i + 1}", ", ".join(c["image"] for c in cs),
                     {"labels": {"app": name}, "spec": {"containers": cs}}, NOW - age)
            for i, (age, cs) in enumerate(templates)]
    revisions = [{"revision": r.number, "image": r.image, "created": r.created.isoformat(), "replica_set":
                  r.replica_set, "pods": 0, "live": r is rows[-1]} for r in rows]
    return _described(kind="Deployment", namespace="pay", name=name, revisions=revisions, conditions=[],
                      replicas={"desired": 3, "ready": 0}, rollback=plan(f"pay/{name}", rows[-1], rows).data())


def _oom_pod(limit: str = "256Mi") -> ToolResult:
    c = {"name": "ledger", "ready": False, "restarts": 4, "limits": {"memory": limit}, "requests": {},
         "state": {"state": "waiting", "reason": "CrashLoopBackOff", "message": "back-off 1m20s"},
         "last_state": {"state": "terminated", "reason": "OOMKilled", "exit_code": 137}}
    return _described(kind="Pod", namespace="pay", name="ledger-6c9d-k2x4q", containers=[c], events=[],
                      conditions=[], init_containers=[], controlled_by=["ReplicaSet/ledger-2", "Deployment/ledger"])


def _limit(memory: str) -> dict[str, Any]:
    return {"limits": {"memory": memory}, "requests": {"memory": memory}}


def test_a_memory_limit_lowered_hours_before_the_peak_is_rolled_back_and_the_change_is_said() -> None:
    d = diagnose(_alert(), [_oom_pod(), _deployment(
        (timedelta(days=12), [_container("ledger", "pay/ledger:3.8.1", resources=_limit("512Mi"))]),
        (timedelta(hours=5), [_container("ledger", "pay/ledger:3.8.2", resources=_limit("256Mi"))]))], NOW)
    assert d and d.mode == "oomkilled" and d.rollback == {"namespace": "pay", "deployment": "ledger"}
    assert d.rollback_note and "revision 1 (pay/ledger:3.8.1)" in d.rollback_note
    assert "the release 5h before the alert, revision 2 (pay/ledger:3.8.2), changed container ledger: memory " \
        "limit lowered 512Mi → 256Mi" in d.rollback_note
    assert d.advice and "memory limit lowered 512Mi → 256Mi" in d.advice, "the card says what the release did"


def test_a_release_long_ago_that_changed_nothing_the_failure_involves_is_not_proposed_and_says_why() -> None:
    env = lambda v: [{"name": "LOG_FORMAT", "value": v}]  # noqa: E731
    d = diagnose(_alert(), [_oom_pod(), _deployment(
        (timedelta(days=12), [_container("ledger", "pay/ledger:3.8.1", resources=_limit("256Mi"), env=env("text"))]),
        (timedelta(hours=5), [_container("ledger", "pay/ledger:3.8.1", resources=_limit("256Mi"),
                                         env=env("json"))]))], NOW)
    assert d and d.mode == "oomkilled" and d.rollback is None
    assert d.advice and "raise container ledger's memory limit (now 256Mi)" in d.advice
    assert "no rollback: the release 5h before the alert, revision 2 (pay/ledger:3.8.1), changed nothing the " \
        "failure involves (env LOG_FORMAT changed)" in d.advice
