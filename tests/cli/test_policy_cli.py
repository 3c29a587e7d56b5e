"""`opsbot policy explain` and `whatcan` say what the gate will do: explain reads the same executions ledger
the gate reads (and says so when it cannot), whatcan names the conditions under which each permission holds."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from bot import messages
from bot.cli.main import app
from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.doors import make_door
from tools.base import Status

POLICY = """
severities:
  order: [P0, P1, P2, P3, INFO]
  alertmanager: {critical: P0, warning: P2}
  sentry: {fatal: P0, error: P1}
tools: {k8s_rollout_restart: T1, k8s_scale: T2}
roles:
  operator: {propose_up_to: T2, approve_up_to: T1}
  lead: {propose_up_to: T2, approve_up_to: T2}
members:
  "cli:tester": [lead]
  "slack:U0OP": [operator]
rules:
  - when: {tier: [T1], severity: [P0], namespace: [shop]}
    decide: allow
    reason: "a restart in shop during a P0 runs at once (test policy)"
  - when: {tier: [T1], severity: [P0, P1]}
    decide: approve
    approvers: {roles: [operator, lead], self_approval: true}
    reason: "a restart during a P0/P1 needs one operator"
  - when: {tier: [T1]}
    decide: approve
    approvers: {roles: [lead]}
    reason: "a restart outside a major incident needs a lead"
  - when: {tier: [T2]}
    decide: approve
    approvers: {roles: [lead]}
    reason: "scaling needs a lead"
guards:
  protected_namespaces: [kube-system]
  replicas: {default: {min: 1, max: 20, max_step: 5}}
  cooldowns: {default: 5m}
  budgets_per_hour: {per_tool: {k8s_rollout_restart: 6}, per_target: 4}
"""


def _config(tmp_path: Path, settings: Settings, prefix: str, **redis: object) -> tuple[Path, Settings]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    data = json.loads(settings.model_dump_json())
    data["policy_file"], data["redis"] = str(policy), {**data["redis"], "key_prefix": prefix, **redis}
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path, settings.model_copy(update={"policy_file": policy})


def door_and_config(tmp_path: Path, settings: Settings) -> tuple[Door, Path]:
    """A door under the test policy with its own Redis keys, and a settings file the CLI reads them through."""
    _, with_policy = _config(tmp_path, settings, "unused:")
    door = make_door(with_policy)
    return door, _config(tmp_path, settings, door.gate.store.prefix)[0]


def opsbot(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output + (repr(result.exception) if result.exit_code else "")


def test_explain_reads_the_cooldown_and_budget_the_gate_then_applies(mutable_settings: Settings,
                                                                     tmp_path: Path) -> None:
    door, config = door_and_config(tmp_path, mutable_settings)
    done = door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"},
                    Caller(identity="cli:tester", via="cli", severity="P0"))
    assert done.status == Status.success, done.error

    code, out = opsbot("policy", "explain", "--tool", "k8s_rollout_restart", "--namespace", "shop", "--name",
                       "checkout", "--severity", "P1", "--as", "slack:U0OP", "--config", str(config))
    assert code == 0, out
    assert "decision: deny (T1, P1): cooldown: k8s_rollout_restart ran on shop/deployment/checkout" in out
    assert "no cooldown or hourly budget is exceeded" not in out
    assert "cooldown: last k8s_rollout_restart of shop/deployment/checkout" in out and "→ refused until" in out
    assert "budget: k8s_rollout_restart 1 of 6 this hour" in out
    again = door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"},
                     Caller(identity="slack:U0OP", via="chat", severity="P1"))
    assert again.status == Status.denied and (again.error or "").startswith("cooldown:"), "as explain said"

    code, out = opsbot("policy", "explain", "--tool", "k8s_rollout_restart", "--namespace", "shop", "--name",
                       "cart", "--severity", "P1", "--as", "slack:U0OP", "--config", str(config))
    assert "decision: approve (T1, P1)" in out and "no cooldown or hourly budget is exceeded" in out
    assert "budget: shop/deployment/cart changed 0 of 4 times this hour" in out


def test_explain_without_redis_says_it_did_not_check_the_limits(settings: Settings, tmp_path: Path) -> None:
    config, _ = _config(tmp_path, settings, "any:", url="redis://127.0.0.1:1/0", timeout_s=0.5)
    code, out = opsbot("policy", "explain", "--tool", "k8s_rollout_restart", "--namespace", "shop", "--name",
                       "checkout", "--severity", "P1", "--as", "slack:U0OP", "--config", str(config))
    assert code == 0, out
    assert "no cooldown or hourly budget is exceeded" not in out
    assert "cooldowns and hourly budgets not checked" in out
    assert messages.LEDGER_UNREAD.format(url="redis://127.0.0.1:1/0") in out


def test_whatcan_names_the_conditions_each_permission_holds_under(settings: Settings, tmp_path: Path) -> None:
    config, _ = _config(tmp_path, settings, "any:")
    code, out = opsbot("policy", "whatcan", "slack:U0OP", "--config", str(config))
    assert code == 0, out
    lines = out.splitlines()
    restart = lines.index(next(line for line in lines if line.strip().startswith("k8s_rollout_restart")))
    assert lines[restart].endswith("request: yes  approve: only at P0/P1"), out
    assert lines[restart + 1].strip() == ("at P0 in namespace shop: allow (a restart in shop during a P0 runs at "
                                          "once (test policy))")
    assert lines[restart + 2].strip().startswith("otherwise at P0/P1: 1 approval(s) from operator/lead")
    assert lines[restart + 2].endswith("you may approve")
    assert lines[restart + 3].strip().startswith("otherwise: 1 approval(s) from lead")
    assert lines[restart + 3].endswith("you may not approve")
    assert "never in the protected namespaces kube-system" in out
