"""Approvals as an on-call shift lives them: propose, refuse the wrong clicks, execute once, record everything."""

from __future__ import annotations

import threading
import uuid

from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.doors import OPERATOR, Clock, door_with_clock, propose_scale
from tools.base import Status

LEAD, ADMIN, VIEWER = "slack:U0LEAD", "slack:U0ADMIN", "slack:U0VIEWER"


def replicas(door: Door) -> int:
    r = door.run("k8s_describe", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
                 Caller(identity="cli:t"))
    return r.data["replicas"]["desired"]


def kinds(door: Door) -> list[tuple[str, str, str]]:
    return [(r.kind, r.identity, r.status) for r in door.audit.query() if r.kind != "tool_call"]


def test_scale_shift_transcript(mutable_settings: Settings) -> None:
    door = door_with_clock(mutable_settings, Clock())
    action_id = propose_scale(door)
    assert replicas(door) == 3, "a proposal changes nothing"
    action = door.gate.store.get(action_id)
    assert action and action.preview.summary == "scale shop/checkout from 3 to 5 replicas"
    assert action.requester == OPERATOR.identity and action.incident == "inc-1"

    viewer = door.gate.decide(action_id, VIEWER, approve=True)
    assert not viewer.ok and "may not approve T2 actions" in viewer.message
    own = door.gate.decide(action_id, OPERATOR.identity, approve=True)
    assert not own.ok and "may not approve their own action" in own.message
    assert replicas(door) == 3

    lead = door.gate.decide(action_id, LEAD, approve=True)
    assert lead.ok and lead.message == "done: scale shop/checkout from 3 to 5 replicas"
    assert lead.action and lead.action.state == "executed" and lead.action.approvals == [LEAD]
    assert replicas(door) == 5

    again = door.gate.decide(action_id, ADMIN, approve=True)
    assert not again.ok and "already executed" in again.message
    assert kinds(door) == [
        ("decision", OPERATOR.identity, "approve"), ("approval", VIEWER, "refused"),
        ("approval", OPERATOR.identity, "refused"), ("approval", LEAD, "claimed"),
        ("execution", LEAD, "success"), ("approval", ADMIN, "refused"),
    ]


def test_expired_action_cannot_be_approved(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    action_id = propose_scale(door)
    clock.advance(minutes=16)
    late = door.gate.decide(action_id, LEAD, approve=True)
    assert not late.ok and "expired" in late.message
    assert late.action and late.action.state == "expired"
    assert replicas(door) == 3
    assert ("expiry", LEAD, "expired") in kinds(door)


def test_expiry_sweep_audits_unanswered_actions(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    action_id = propose_scale(door)
    assert door.gate.expire_due() == []
    clock.advance(minutes=20)
    assert door.gate.expire_due() == [action_id]
    assert door.gate.store.pending() == []
    assert ("expiry", "opsbot:clock", "expired") in kinds(door)


def test_deny_closes_the_action(mutable_settings: Settings) -> None:
    door = door_with_clock(mutable_settings, Clock())
    action_id = propose_scale(door)
    viewer = door.gate.decide(action_id, VIEWER, approve=False)
    assert not viewer.ok and "may not deny" in viewer.message
    denied = door.gate.decide(action_id, LEAD, approve=False)
    assert denied.ok and denied.action and denied.action.state == "denied"
    after = door.gate.decide(action_id, ADMIN, approve=True)
    assert not after.ok and "already denied" in after.message
    assert replicas(door) == 3


def test_rollback_needs_two_distinct_approvers_and_restores_the_good_revision(mutable_settings: Settings) -> None:
    door = door_with_clock(mutable_settings, Clock())
    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}, OPERATOR)
    assert r.status == Status.approval_required
    assert "revision 2 (registry.local/shop/checkout:1.5.0) to revision 1 (registry.local/shop/checkout:1.4.2)" in \
        r.data["preview"]["summary"]
    action_id = r.data["action_id"]
    first = door.gate.decide(action_id, LEAD, approve=True)
    assert first.ok and "approval 1 of 2 recorded" in first.message
    twice = door.gate.decide(action_id, LEAD, approve=True)
    assert not twice.ok and "already approved" in twice.message
    done = door.gate.decide(action_id, ADMIN, approve=True)
    assert done.ok, done.message
    pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, Caller(identity="cli:t"))
    assert pods.data["summary"].endswith("3 healthy") or "3 healthy" in pods.data["summary"]


def test_policy_is_checked_again_at_execution(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    first, second = propose_scale(door, 5), propose_scale(door, 4)
    assert door.gate.decide(first, LEAD, approve=True).ok
    late = door.gate.decide(second, ADMIN, approve=True)
    assert not late.ok and "cooldown" in late.message
    assert late.action and late.action.state == "refused"
    assert replicas(door) == 5
    assert ("execution", ADMIN, "refused") in kinds(door)


def test_hostile_and_absurd_arguments_are_refused_before_anything_runs(mutable_settings: Settings) -> None:
    door = door_with_clock(mutable_settings, Clock())
    cases = [
        ({"namespace": "shop", "deployment": "checkout", "replicas": -1}, "greater than or equal to 0"),
        ({"namespace": "shop", "deployment": "checkout", "replicas": 10_000}, "less than or equal to 1000"),
        ({"namespace": "shop", "deployment": "checkout; kubectl delete ns shop", "replicas": 4}, "not a Kubernetes name"),
        ({"namespace": "nowhere", "deployment": "checkout", "replicas": 4}, "namespace 'nowhere' does not exist"),
        ({"namespace": "shop", "deployment": "checkout", "replicas": 40}, "outside the allowed range 2..12"),
        ({"namespace": "kube-system", "deployment": "coredns", "replicas": 3}, "kube-system is protected"),
    ]
    for args, reason in cases:
        r = door.run("k8s_scale", args, OPERATOR)
        assert r.status in (Status.error, Status.denied) and reason in (r.error or ""), (args, r.error)
    assert door.gate.store.pending() == []
    assert replicas(door) == 3


def test_redis_down_fails_closed(mutable_settings: Settings, dead_url: str) -> None:
    port = dead_url.rsplit(":", 1)[1]
    down = mutable_settings.model_copy(update={"redis": mutable_settings.redis.model_copy(
        update={"url": f"redis://127.0.0.1:{port}/0", "timeout_s": 0.5})})
    door = door_with_clock(down, Clock())
    r = door.run("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4}, OPERATOR)
    assert r.status == Status.error and "Redis is unreachable" in (r.error or "") and "fail closed" in (r.error or "")
    refusal = door.gate.decide("abcd1234", LEAD, approve=True).message
    assert refusal.startswith("Redis is unreachable")
    assert port not in (r.error or "") and port not in refusal, "the Redis address stays in the logs"
    assert replicas(door) == 3


def test_failed_execution_is_recorded_as_failed(mutable_settings: Settings, down_settings: Settings) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    clock = Clock()
    door = door_with_clock(mutable_settings, clock, prefix)
    action_id = propose_scale(door)
    broken = door_with_clock(mutable_settings.model_copy(update={"kubernetes": down_settings.kubernetes}), clock, prefix)
    v = broken.gate.decide(action_id, LEAD, approve=True)
    assert not v.ok and "could not reach kubernetes" in v.message
    assert v.action and v.action.state == "failed" and "could not reach kubernetes" in (v.action.outcome or "")
    assert ("execution", LEAD, "error") in kinds(door)
    assert replicas(door) == 3


def test_hundred_concurrent_approvals_execute_once(mutable_settings: Settings) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    clock = Clock()
    door = door_with_clock(mutable_settings, clock, prefix)
    action_id = propose_scale(door)
    replicas_of_bot = [door_with_clock(mutable_settings, clock, prefix) for _ in range(4)]
    start = threading.Barrier(100)
    verdicts = []

    def click(i: int) -> None:
        start.wait()
        verdicts.append(replicas_of_bot[i % 4].gate.decide(action_id, LEAD if i % 2 else ADMIN, approve=True))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(verdicts) == 100
    assert sum(v.ok for v in verdicts) == 1
    executions = [r for r in door.audit.query() if r.kind == "execution"]
    assert [(r.status, r.target) for r in executions] == [("success", "shop/deployment/checkout")]
    assert replicas(door) == 5


def test_kubernetes_down_at_proposal_is_said_and_nothing_is_pending(down_settings: Settings) -> None:
    door = door_with_clock(down_settings, Clock())
    r = door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"}, OPERATOR)
    assert r.status == Status.error and "could not reach kubernetes at http://127.0.0.1:" in (r.error or "")
    assert door.gate.store.pending() == []
