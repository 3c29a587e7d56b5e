"""The kill switch covers every mutation that would run without a person's approval: a plain `decide: allow` rule
(valid files since the first policy) asks while automatic actions are paused, like a rule that asks, saying so;
not paused it allows as it always did, and what a rule denies or asks stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from policies.engine import ActionRequest, PolicyEngine
from policies.schema import Policy
from sandbox.manager import DEMO_POLICY

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
PAUSED = "by cli:alice at 11:50 UTC: release freeze"
ALLOW_RESTART = {"when": {"tier": ["T1"], "namespace": ["shop"]}, "decide": "allow",
                 "reason": "restarts in shop run at once"}


def engine(members: dict[str, list[str]] | None = None) -> PolicyEngine:
    data = yaml.safe_load(DEMO_POLICY.read_text())
    data["rules"].insert(0, ALLOW_RESTART)
    if members is not None:
        data["members"] = members
    return PolicyEngine(Policy.model_validate(data))


def restart(requester: str = "opsbot:triage", tool: str = "k8s_rollout_restart", severity: str = "P2",
            namespace: str = "shop") -> ActionRequest:
    return ActionRequest(tool=tool, namespace=namespace, target=f"{namespace}/deployment/checkout",
                         requester=requester, severity=severity, deployment="checkout")  # type: ignore[arg-type]


@pytest.mark.parametrize("requester", ["opsbot:triage", "slack:U0OPERATOR"])
def test_a_plain_allow_rule_asks_a_person_while_paused(requester: str) -> None:
    d = engine().decide(restart(requester), [], NOW, paused=PAUSED)
    assert (d.outcome, d.automatic, d.rule) == ("approve", "paused", 0), d.reason
    assert d.reason == ("restarts in shop run at once; automatic actions are paused (by cli:alice at 11:50 UTC: "
                        "release freeze): asks a person")
    assert d.approvers is not None and d.approvers.count == 1 and d.approvers.self_approval
    assert d.approvers.roles == ["operator", "oncall-lead", "admin"], "every role that may approve T1"
    assert engine().may_approve("slack:U0LEAD", d, requester, []) is None
    assert "may not approve" in (engine().may_approve("slack:U0VIEWER", d, requester, []) or "")


def test_not_paused_the_same_rule_allows_as_it_always_did() -> None:
    d = engine().decide(restart(), [], NOW)
    assert (d.outcome, d.automatic, d.reason) == ("allow", None, "restarts in shop run at once")


@pytest.mark.parametrize(("req", "outcome", "said"), [
    (restart(namespace="payments"), "approve", "a restart outside a major incident needs an on-call lead"),
    (restart(tool="k8s_scale", namespace="kube-system"), "deny", "namespace kube-system is protected"),
    (restart(tool="k8s_describe"), "allow", "reading is always allowed"),
])
def test_what_the_pause_does_not_touch(req: ActionRequest, outcome: str, said: str) -> None:
    """Rules that ask or deny decide as before, and reading is never paused."""
    d = engine().decide(req, [], NOW, mutates=req.tool in engine().policy.tools, paused=PAUSED)
    assert (d.outcome, d.automatic) == (outcome, None) and said in d.reason, d.reason


def test_paused_with_nobody_who_could_approve_it_is_refused_in_words() -> None:
    d = engine(members={"opsbot:triage": ["automation"]}).decide(restart(), [], NOW, paused=PAUSED)
    assert (d.outcome, d.automatic) == ("deny", "paused")
    assert "automatic actions are paused" in d.reason and "nobody may approve T1 actions" in d.reason, d.reason
