"""Who can approve at all: the shipped default names no approver, so every action that needs an approval is
refused in words until a team names its own; a policy can forbid approvals from the command line; policy files
written before these keys existed still load."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from policies.engine import ActionRequest, PolicyEngine
from policies.schema import DEFAULT_POLICY, load_policy
from sandbox.manager import DEMO_POLICY

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NOBODY = "nobody may approve {tier} actions: policies name no member with an approving role; see docs/policy.md"
CLI_FORBIDDEN = "the policy forbids approvals from the command line (cli.may_approve: false)"


def request(tool: str, who: str, severity: str = "P1", replicas: tuple[int, int] | None = None) -> ActionRequest:
    return ActionRequest(tool=tool, namespace="shop", target="shop/deployment/checkout", requester=who,
                         severity=severity, replicas=replicas, deployment="checkout")  # type: ignore[arg-type]


def engine_with(tmp_path: Path, old: str, new: str, base: Path = DEMO_POLICY) -> PolicyEngine:
    text = base.read_text()
    assert old in text, old
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace(old, new))
    return PolicyEngine(load_policy(path))


@pytest.mark.parametrize(("tool", "tier"), [("k8s_delete_pod", "T1"), ("k8s_rollout_restart", "T1"),
                                            ("k8s_scale", "T2"), ("k8s_rollback", "T3")])
@pytest.mark.parametrize("who", ["opsbot:triage", "cli:alice", "slack:U0LEAD"])
@pytest.mark.parametrize("severity", ["P0", "P2"])
def test_the_shipped_default_refuses_every_action_that_needs_an_approval(tool, tier, who, severity) -> None:
    engine = PolicyEngine(load_policy(DEFAULT_POLICY))
    d = engine.decide(request(tool, who, severity, (3, 4) if tool == "k8s_scale" else None), [], NOW)
    assert (d.outcome, d.reason) == ("deny", NOBODY.format(tier=tier))


def test_the_shipped_default_still_reads_and_keeps_its_human_only_refusal() -> None:
    engine = PolicyEngine(load_policy(DEFAULT_POLICY))
    assert engine.decide(request("k8s_list", "cli:alice"), [], NOW, mutates=False).outcome == "allow"
    d = engine.decide(request("page_oncall", "opsbot:triage"), [], NOW)
    assert d.outcome == "deny" and "may not request T4" in d.reason, "a denying rule needs no approver"
    assert engine.policy.members == {"opsbot:triage": ["automation"]}, "the default names no person"


def test_naming_one_approver_makes_the_default_usable(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, '  "opsbot:triage": [automation]\n',
                         '  "opsbot:triage": [automation]\n  "slack:U04ABCDEF12": [oncall-lead]\n', DEFAULT_POLICY)
    d = engine.decide(request("k8s_rollout_restart", "opsbot:triage", "P1"), [], NOW)
    assert d.outcome == "approve", d.reason
    assert engine.may_approve("slack:U04ABCDEF12", d, "opsbot:triage", []) is None
    d = engine.decide(request("k8s_rollback", "opsbot:triage", "P2"), [], NOW)  # the T3 rule wants two
    assert d.outcome == "deny" and d.reason == ("T3 actions here need 2 approvers, but the policy names only 1 "
                                                "(slack:U04ABCDEF12); see docs/policy.md")


def test_a_policy_can_forbid_approvals_from_the_command_line(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, "  may_approve: true", "  may_approve: false")
    d = engine.decide(request("k8s_rollout_restart", "slack:U0OPERATOR", "P2"), [], NOW)
    assert d.outcome == "approve"
    assert engine.may_approve("cli:demo", d, "slack:U0OPERATOR", []).startswith(CLI_FORBIDDEN)
    assert engine.may_approve("slack:U0LEAD", d, "slack:U0OPERATOR", []) is None
    assert "cli:demo" not in engine.approvers("T1", d.approvers)
    assert any("approve: no" in line for line in engine.whatcan("cli:demo")[1:])
    allowed = PolicyEngine(load_policy(DEMO_POLICY))
    assert allowed.may_approve("cli:demo", d, "slack:U0OPERATOR", []) is None


def test_when_only_the_command_line_could_approve_and_it_may_not_nobody_may(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, '  "opsbot:triage": [automation]\n',
                         '  "opsbot:triage": [automation]\n  "cli:alice": [admin]\n', DEFAULT_POLICY)
    assert engine.decide(request("k8s_rollout_restart", "opsbot:triage"), [], NOW).outcome == "approve"
    path = tmp_path / "policy.yaml"
    path.write_text(path.read_text().replace("  may_approve: true", "  may_approve: false"))
    d = PolicyEngine(load_policy(path)).decide(request("k8s_rollout_restart", "opsbot:triage"), [], NOW)
    assert (d.outcome, d.reason) == ("deny", NOBODY.format(tier="T1"))


def test_older_policy_files_stay_valid(tmp_path: Path) -> None:
    text = DEMO_POLICY.read_text()
    without_cli = text[:text.index("cli:\n")] + text[text.index("rules:\n"):]
    path = tmp_path / "old.yaml"
    path.write_text(without_cli)
    assert load_policy(path).cli.may_approve is True
    members = without_cli[without_cli.index("members:\n"):without_cli.index("rules:\n")]
    path.write_text(without_cli.replace(members, "members:\n  # nobody yet\n\n"))
    assert load_policy(path).members == {}
    path.write_text(without_cli.replace(members, ""))
    assert load_policy(path).members == {}


def test_the_demo_policy_is_the_shipped_one_with_the_demos_members() -> None:
    shipped, demo = load_policy(DEFAULT_POLICY), load_policy(DEMO_POLICY)
    assert demo.model_dump(exclude={"members"}) == shipped.model_dump(exclude={"members"})
    assert demo.members["cli:demo"] == ["oncall-lead"] and "slack:U0LEAD" not in shipped.members
