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
from tools.k8s_revisions import Revision, plan

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _alert(**labels: str) -> Alert:
    labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", **labels}
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW)


def _described(**data: Any) -> ToolResult:
    return ToolResult(tool="k8s_describe", status=Status.success, invocation="k8s_describe", data=data)


def _revision(number: int, image: str, age: timedelta) -> Revision:
    """A ReplicaSet's row; a restart's differs only in its template annotations, which `what_matters` drops."""
    spec = {"containers": [{"name": "checkout", "image": image}]}
    return Revision(number, f"checkout-{number}", image, {"labels": {"app": "checkout"}, "spec": spec}, NOW - age)


def _deployment(*ages: timedelta, restarts: tuple[timedelta, ...] = ()) -> ToolResult:
    """checkout with one release per age (images 1.0, 1.1, …), then `restarts` of the newest one."""
    rows = [_revision(i + 1, f"shop/checkout:1.{i}", age) for i, age in enumerate(ages)]
    rows += [_revision(len(rows) + i + 1, rows[-1].image, age) for i, age in enumerate(restarts)]
    revisions = [{"revision": r.number, "image": r.image, "created": r.created.isoformat()} for r in rows]
    rollback = plan("shop/checkout", rows[-1], rows).data()
    return _described(kind="Deployment", namespace="shop", name="checkout", revisions=revisions, conditions=[],
                      rollback=rollback)


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


def test_after_a_restart_the_rollback_goes_past_it_to_the_last_different_release() -> None:
    """Restarting first is the reflex: revision 3 is a restart of the broken 1.1; the rollback goes to 1.0."""
    d = diagnose(_alert(), [_crashing_pod(), _deployment(timedelta(days=6), timedelta(minutes=25),
                                                         restarts=(timedelta(minutes=2),))], NOW)
    assert d and d.rollback == {"namespace": "shop", "deployment": "checkout"}
    assert d.rollback_note and d.rollback_note.startswith("revision 1 (shop/checkout:1.0), the newest earlier "
                                                          "revision whose pod template differs")
    assert "image shop/checkout:1.1 → shop/checkout:1.0" in d.rollback_note


def test_a_first_release_restarted_has_nothing_to_roll_back_to_and_says_why() -> None:
    d = diagnose(_alert(), [_crashing_pod(), _deployment(timedelta(minutes=25), restarts=(timedelta(minutes=2),))],
                 NOW)
    assert d and d.mode == "crashloopbackoff" and d.rollback is None
    assert d.advice and "every earlier revision of shop/checkout (1) runs the same pod template as the current " \
        "one (shop/checkout:1.0): a rollback would change nothing" in d.advice


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
