"""The demo policy's decisions (sandbox/policy.yaml: the shipped rules with the demo's members), pinned as a
table: tier × severity × namespace × role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from policies.engine import ActionRequest, Execution, PolicyEngine
from policies.schema import load_policy
from policies.yamlfile import FileError
from sandbox.manager import DEMO_POLICY

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ENGINE = PolicyEngine(load_policy(DEMO_POLICY))
VIEWER, OPERATOR, LEAD, ADMIN, TRIAGE = "slack:U0VIEWER", "slack:U0OPERATOR", "slack:U0LEAD", "slack:U0ADMIN", "opsbot:triage"


def request(tool: str, who: str, severity: str = "P2", namespace: str = "shop", replicas=None) -> ActionRequest:
    return ActionRequest(tool=tool, namespace=namespace, target=f"{namespace}/deployment/checkout", requester=who,
                         severity=severity, replicas=replicas, deployment="checkout")


# tool, requester, severity, namespace, outcome, approver count, self-approval
TABLE = [
    ("k8s_list", VIEWER, "P3", "shop", "allow", None, None),
    ("k8s_list", VIEWER, "P0", "kube-system", "allow", None, None),
    ("k8s_rollout_restart", VIEWER, "P0", "shop", "deny", None, None),
    ("k8s_rollout_restart", OPERATOR, "P0", "shop", "approve", 1, True),
    ("k8s_rollout_restart", OPERATOR, "P1", "shop", "approve", 1, True),
    ("k8s_rollout_restart", OPERATOR, "P2", "shop", "approve", 1, False),
    ("k8s_delete_pod", LEAD, "INFO", "shop", "approve", 1, False),
    ("k8s_delete_pod", TRIAGE, "P1", "shop", "approve", 1, True),
    ("k8s_rollout_restart", ADMIN, "P0", "kube-system", "deny", None, None),
    ("k8s_scale", OPERATOR, "P1", "shop", "approve", 1, False),
    ("k8s_scale", LEAD, "P0", "payments", "approve", 1, False),
    ("k8s_scale", VIEWER, "P0", "shop", "deny", None, None),
    ("k8s_scale", LEAD, "P0", "monitoring", "deny", None, None),
    ("k8s_rollback", OPERATOR, "P0", "shop", "approve", 1, False),
    ("k8s_rollback", OPERATOR, "P1", "shop", "approve", 2, False),
    ("k8s_rollback", TRIAGE, "P2", "payments", "approve", 2, False),
    ("k8s_rollback", "slack:UNKNOWN", "P0", "shop", "deny", None, None),
    ("page_oncall", ADMIN, "P0", "shop", "deny", None, None),
]


@pytest.mark.parametrize(("tool", "who", "severity", "namespace", "outcome", "count", "self_ok"), TABLE)
def test_demo_policy_table(tool, who, severity, namespace, outcome, count, self_ok) -> None:
    replicas = (3, 4) if tool == "k8s_scale" else None
    d = ENGINE.decide(request(tool, who, severity, namespace, replicas), [], NOW, mutates=not tool.startswith("k8s_list"))
    assert d.outcome == outcome, d.reason
    if outcome == "approve":
        assert d.approvers is not None
        assert (d.approvers.count, d.approvers.self_approval) == (count, self_ok)
    if outcome == "deny":
        assert d.reason


@pytest.mark.parametrize(
    ("replicas", "reason"),
    [((3, -1), "outside the allowed range 2..12"), ((3, 10_000), "outside the allowed range 2..12"),
     ((3, 1), "outside the allowed range 2..12"), ((3, 9), "more than 4 replicas at once"),
     ((6, 6), "already has 6 replicas"), ((20, 24), "outside the allowed range 2..12"),
     ((20, 1), "outside the allowed range 2..12"), ((1, 13), "outside the allowed range 2..12"),
     ((20, 15), "more than 4 replicas at once")],
)
def test_replica_guards(replicas, reason) -> None:
    d = ENGINE.decide(request("k8s_scale", LEAD, "P0", replicas=replicas), [], NOW)
    assert d.outcome == "deny" and reason in d.reason


@pytest.mark.parametrize("replicas", [(20, 16), (13, 12), (1, 3), (1, 2)])
def test_a_step_back_toward_the_range_from_outside_it_is_allowed(replicas) -> None:
    """A deployment someone scaled past the policy's max (by hand) can be scaled back, a step at a time: the
    range bounds what opsbot sets, it must not lock a runaway count in place."""
    d = ENGINE.decide(request("k8s_scale", LEAD, "P0", replicas=replicas), [], NOW)
    assert d.outcome == "approve", d.reason
    assert any("toward 2..12" in c for c in d.checks), d.checks


def test_the_undo_of_a_rollback_that_did_not_fix_it_is_not_held_back_by_the_rollback_cooldown() -> None:
    """Verification decides after its window (10 min) and proposes the undo; the 15-min k8s_rollback cooldown is
    there to stop repeated rollbacks, not the undo of the last one. Budgets still hold, and an "undo" of another
    tool's change is no undo."""
    target = "shop/deployment/checkout"
    undo = ActionRequest(tool="k8s_rollback", namespace="shop", target=target, requester=TRIAGE, severity="P2",
                         deployment="checkout", undo=True)
    rolled = [Execution("k8s_rollback", target, NOW - timedelta(minutes=10))]
    d = ENGINE.decide(undo, rolled, NOW)
    assert d.outcome == "approve", d.reason
    assert "an undo of the target's last change: no cooldown; no hourly budget is exceeded" in d.checks
    again = ENGINE.decide(request("k8s_rollback", LEAD, "P2"), rolled, NOW)
    assert again.outcome == "deny" and "next change is allowed in 5m00s" in again.reason, "a repeat still waits"
    restarted = [Execution("k8s_rollout_restart", target, NOW - timedelta(minutes=2))]
    assert "cooldown" in ENGINE.decide(undo, restarted, NOW).reason
    three = [Execution("k8s_rollback", f"shop/deployment/x{i}", NOW - timedelta(minutes=20 + i)) for i in range(3)]
    assert "k8s_rollback already ran 3 times" in ENGINE.decide(undo, [*three, *rolled], NOW).reason


def test_cooldown_and_budgets() -> None:
    target = "shop/deployment/checkout"
    recent = [Execution("k8s_rollout_restart", target, NOW - timedelta(minutes=2))]
    d = ENGINE.decide(request("k8s_scale", LEAD, "P0", replicas=(3, 4)), recent, NOW)
    assert d.outcome == "deny" and "cooldown" in d.reason and "next change is allowed in 3m00s" in d.reason
    old = [Execution("k8s_scale", f"shop/deployment/x{i}", NOW - timedelta(minutes=10 + i)) for i in range(10)]
    d = ENGINE.decide(request("k8s_scale", LEAD, "P0", replicas=(3, 4)), old, NOW)
    assert d.outcome == "deny" and "k8s_scale already ran 10 times in the last hour" in d.reason
    same = [Execution("k8s_delete_pod", target, NOW - timedelta(minutes=10 * (i + 1))) for i in range(4)]
    d = ENGINE.decide(request("k8s_rollout_restart", LEAD, "P0"), same, NOW)
    assert d.outcome == "deny" and "already changed 4 times" in d.reason
    stale = [Execution("k8s_scale", target, NOW - timedelta(hours=2))]
    assert ENGINE.decide(request("k8s_scale", LEAD, "P0", replicas=(3, 4)), stale, NOW).outcome == "approve"


def test_approver_checks() -> None:
    d = ENGINE.decide(request("k8s_scale", OPERATOR, "P1", replicas=(3, 4)), [], NOW)
    assert "may not approve their own action" in ENGINE.may_approve(OPERATOR, d, OPERATOR, [])
    assert "may not approve T2 actions" in ENGINE.may_approve(VIEWER, d, OPERATOR, [])
    assert "may not approve T2 actions" in ENGINE.may_approve("slack:U0OPERATOR", d, LEAD, [])
    assert ENGINE.may_approve(LEAD, d, OPERATOR, []) is None
    assert "already approved" in ENGINE.may_approve(LEAD, d, OPERATOR, [LEAD])
    assert "may not approve" in ENGINE.may_approve(TRIAGE, d, OPERATOR, [])


def test_severity_mapping() -> None:
    assert ENGINE.severity("alertmanager", "critical") == "P0"
    assert ENGINE.severity("alertmanager", "warning") == "P2"
    assert ENGINE.severity("sentry", "error") == "P1"
    assert ENGINE.severity("sentry", "nonsense") == "P3"


def test_change_freeze(tmp_path: Path) -> None:
    text = load_policy_text().replace(
        "freezes: []",
        'freezes:\n    - {start: "2026-11-22T00:00:00Z", end: "2026-11-23T00:00:00Z", reason: "sale", except_severities: [P0]}',
    )
    path = tmp_path / "p.yaml"
    path.write_text(text)
    engine = PolicyEngine(load_policy(path))
    assert "change freeze" in engine.decide(request("k8s_rollout_restart", LEAD, "P1"), [], NOW).reason
    assert engine.decide(request("k8s_rollout_restart", LEAD, "P0"), [], NOW).outcome == "approve"


def load_policy_text() -> str:
    return DEMO_POLICY.read_text()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  k8s_scale: T2", "  k8s_scale: T9"), ":17: tools.k8s_scale: Input should be"),
        (("  viewer:      {propose_up_to: T0, approve_up_to: null}",
          "  viewer:      {propose_up_to: T0, approve_up_to: null, sudo: true}"), "roles.viewer.sudo: unknown key"),
        (('"slack:U0VIEWER": [viewer]', '"slack:U0VIEWER": [superuser]'), "role 'superuser', which is not defined"),
        (("    default: 5m", "    default: soon"), "guards.cooldowns.default"),
        (("    default: {min: 1, max: 20, max_step: 5}", "    default: {min: 30, max: 20, max_step: 5}"), "min 30 is above max 20"),
    ],
)
def test_broken_policy_names_file_line_and_reason(tmp_path: Path, change, expected) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(load_policy_text().replace(*change))
    with pytest.raises(FileError) as e:
        load_policy(path)
    assert str(path) in str(e.value) and expected in str(e.value)
