"""The diagnosis decides what a card proposes: a rollback only for a failure a release began, never for one
a restart, a rollback or a scale-up cannot clear; and it quotes the lines that explain an exit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.quotes import telling
from tools.base import Status, ToolResult

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _alert(**labels: str) -> Alert:
    labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", **labels}
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _described(**data: Any) -> ToolResult:
    return ToolResult(tool="k8s_describe", status=Status.success, invocation="k8s_describe", data=data)


def _deployment(*ages: timedelta) -> ToolResult:
    revisions = [{"revision": i + 1, "image": f"shop/checkout:1.{i}", "created": (NOW - age).isoformat()}
                 for i, age in enumerate(ages)]
    return _described(kind="Deployment", namespace="shop", name="checkout", revisions=revisions, conditions=[])


def _crashing_pod() -> ToolResult:
    container = {"name": "checkout", "ready": False, "restarts": 7, "limits": {"memory": "256Mi"},
                 "state": {"state": "waiting", "reason": "CrashLoopBackOff", "message": "back-off 5m0s"},
                 "last_state": {"state": "terminated", "reason": "Error", "exit_code": 1}}
    return _described(kind="Pod", namespace="shop", name="checkout-5d8f-x2", containers=[container], events=[],
                      conditions=[], init_containers=[])


def test_a_crash_loop_that_began_with_the_newest_revision_is_rolled_back() -> None:
    d = diagnose(_alert(), [_crashing_pod(), _deployment(timedelta(days=6), timedelta(minutes=25))], NOW)
    assert d and d.mode == "crashloopbackoff" and d.rollback == {"namespace": "shop", "deployment": "checkout"}
    assert d.advice is None


def test_no_previous_revision_or_an_old_one_means_no_rollback_and_words_for_a_person() -> None:
    for revisions in ([timedelta(minutes=25)], [timedelta(days=9), timedelta(days=3)]):
        d = diagnose(_alert(), [_crashing_pod(), _deployment(*revisions)], NOW)
        assert d and d.mode == "crashloopbackoff" and d.rollback is None
        assert d.advice and "restarting runs the same failure again" in d.advice


def test_a_node_the_kubelet_left_is_never_rolled_back_even_after_a_release() -> None:
    node = _described(kind="Node", name="worker-3", conditions=[
        {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
         "message": "Kubelet stopped posting node status."}], pressure=[], pods={})
    d = diagnose(_alert(alertname="KubeNodeNotReady", node="worker-3"),
                 [node, _deployment(timedelta(days=6), timedelta(minutes=5))], NOW)
    assert d and d.mode == "node-not-ready" and d.rollback is None
    assert d.summary == "Ready Unknown (NodeStatusUnknown): Kubelet stopped posting node status."


def test_the_lines_that_explain_an_exit_are_chosen_by_content_not_position() -> None:
    lines = ["INFO starting export", "Traceback (most recent call last):",
             '  File "/app/export.py", line 12, in <module>',
             '    conn = psycopg2.connect(os.environ["WAREHOUSE_DSN"])',
             "psycopg2.OperationalError: could not connect to server: Connection refused",
             '\tIs the server running on host "warehouse-db" (10.40.12.7) and accepting',
             "INFO shutting down", "INFO bye"]
    assert telling(lines, 4) == lines[1:2] + lines[3:6]
    assert telling(["INFO a", "INFO b", "INFO c"], 2) == ["INFO b", "INFO c"], "nothing telling: the last lines"
