"""The `opsbot` command as a human uses it, against the session sandbox."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot import messages as said
from bot.chat.frontends import messages
from bot.cli.main import app
from bot.guard.door import Caller
from bot.settings import load_settings
from bot.wiring import build_door
from sandbox.manager import DEMO_POLICY, Sandbox

runner = CliRunner()


def opsbot(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_tool_runs_through_the_door_and_is_audited(sandbox: Sandbox) -> None:
    config = str(sandbox.settings_file)
    code, out = opsbot("tool", "k8s_pod_logs", "--namespace", "shop", "--pod", "checkout", "--previous",
                       "--tail-lines", "5", "--config", config)
    assert code == 0, out
    assert "DATABASE_URL is not set" in out and "[ok]" in out
    code, out = opsbot("audit", "--since", "5m", "--action", "k8s_pod_logs", "--config", config)
    assert code == 0 and "k8s_pod_logs(namespace='shop', pod='checkout'" in out


def test_tool_errors_are_sentences_and_exit_non_zero(sandbox: Sandbox) -> None:
    config = str(sandbox.settings_file)
    code, out = opsbot("tool", "k8s_list", "--namespace", "nowhere", "--config", config)
    assert code == 1 and "namespace 'nowhere' does not exist; namespaces: kube-system, payments, shop" in out
    code, out = opsbot("tool", "k8s_list", "shop", "--config", config)
    assert code == 1 and "expected --name value" in out
    assert "Traceback" not in out


def test_tool_list_names_every_tool(sandbox: Sandbox) -> None:
    code, out = opsbot("tool", "--config", str(sandbox.settings_file))
    assert code == 0
    for name in ("prom_query_range", "logs_search", "k8s_list", "k8s_scale", "k8s_rollback"):
        assert name in out


def test_policy_commands(sandbox: Sandbox) -> None:
    config = str(sandbox.settings_file)  # the sandbox's demo policy
    code, out = opsbot("policy", "explain", "--tool", "k8s_scale", "--namespace", "shop", "--severity", "P1",
                       "--as", "slack:U0OPERATOR", "--name", "checkout", "--replicas", "3:6", "--config", config)
    assert code == 0 and "decision: approve (T2, P1)" in out and "self-approval not allowed" in out
    code, out = opsbot("policy", "whatcan", "slack:U0VIEWER", "--config", config)
    assert code == 0 and "k8s_scale              T2  request: no" in out


def test_policy_check_names_the_broken_line(tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    broken.write_text("severities: {order: [P0]}\n")
    code, out = opsbot("policy", "check", str(broken))
    assert code == 1 and f"{broken}:1: severities.alertmanager: Field required" in out


def test_sandbox_status_and_scenario_check(sandbox: Sandbox, tmp_path: Path) -> None:
    code, out = opsbot("sandbox", "status", "--dir", str(sandbox.dir))
    assert code == 0 and "kubernetes     running" in out and "scenario: crashloop-missing-env" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: t\ncluster: {namespaces: [a], nodez: 3}\n")
    code, out = opsbot("sandbox", "check", str(bad))
    assert code == 1 and "cluster.nodez: unknown key" in out


@pytest.mark.parametrize("command", [["action", "approve", "1"], ["action", "deny", "1"], ["ask", "why?"], ["chat"],
                                     ["troubleshoot", "checkout", "-n", "shop"],
                                     ["tool", "k8s_scale", "--namespace", "shop", "--deployment", "checkout",
                                      "--replicas", "4"]])
def test_no_command_takes_an_identity_from_a_flag(sandbox: Sandbox, command: list[str]) -> None:
    code, out = opsbot(*command, "--as", "cli:demo", "--config", str(sandbox.settings_file))
    assert code != 0 and "nothing has changed" not in out and "pending approval" not in out
    if command[0] != "tool":  # a command's own options: a usage error
        assert code == 2 and "No such option: --as" in out
    else:  # the tool's arguments: refused by the tool's schema
        assert "as: is not an argument of this tool" in out


def _as(sandbox: Sandbox, tmp_path: Path, identity: str, prefix: str, cli_may_approve: bool = True) -> str:
    """The sandbox's settings with their own Redis prefix, this cli.identity, and the demo policy in which
    cli:alice and cli:bob are on-call leads."""
    policy = tmp_path / f"policy-{cli_may_approve}.yaml"
    text = DEMO_POLICY.read_text().replace('  "cli:demo": [oncall-lead]\n',
                                           '  "cli:alice": [oncall-lead]\n  "cli:bob": [oncall-lead]\n')
    policy.write_text(text.replace("  may_approve: true", f"  may_approve: {str(cli_may_approve).lower()}"))
    settings = yaml.safe_load(sandbox.settings_file.read_text())
    settings["redis"]["key_prefix"] = prefix
    settings["policy_file"], settings["cli"] = str(policy), {"identity": identity}
    path = tmp_path / f"{identity.replace(':', '-')}-{cli_may_approve}.yaml"
    path.write_text(yaml.safe_dump(settings))
    return str(path)


def test_the_command_line_acts_as_its_configured_identity(sandbox: Sandbox, tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    alice, bob = _as(sandbox, tmp_path, "cli:alice", prefix), _as(sandbox, tmp_path, "cli:bob", prefix)
    code, out = opsbot("tool", "k8s_scale", "--namespace", "shop", "--deployment", "checkout", "--replicas", "4",
                       "--config", alice)
    assert code == 0 and "pending approval #" in out, out
    action = re.search(r"pending approval #(\w+)", out)[1]
    code, out = opsbot("action", "approve", action, "--config", alice)
    assert code == 1 and "the requester may not approve their own action" in out
    code, out = opsbot("action", "deny", action, "--config", bob)
    assert code == 0 and "denied by cli:bob" in out
    code, out = opsbot("audit", "--since", "5m", "--config", alice)
    assert re.search(r"cli:alice\s+decision\s+approve", out) and re.search(r"cli:bob\s+denial\s+denied", out), out


def test_a_policy_that_forbids_cli_approvals_refuses_them_in_words_and_audits_it(sandbox: Sandbox,
                                                                                  tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    alice = _as(sandbox, tmp_path, "cli:alice", prefix, cli_may_approve=False)
    bob = _as(sandbox, tmp_path, "cli:bob", prefix, cli_may_approve=False)
    code, out = opsbot("tool", "k8s_scale", "--namespace", "shop", "--deployment", "checkout", "--replicas", "4",
                       "--config", alice)
    assert code == 0 and "pending approval #" in out, out  # requesting from the command line is still allowed
    action = re.search(r"pending approval #(\w+)", out)[1]
    code, out = opsbot("action", "approve", action, "--config", bob)
    assert code == 1 and out.startswith("the policy forbids approvals from the command line (cli.may_approve: "
                                        "false); approve or deny from the action's card in Slack or Telegram")
    code, out = opsbot("action", "list", "--config", bob)
    assert f"#{action}" in out and "approvals 0" in out, "nothing was approved"
    code, out = opsbot("audit", "--since", "5m", "--action", "k8s_scale", "--config", bob)
    assert re.search(r"cli:bob\s+approval\s+refused\s+the policy forbids approvals from the command line", out), out


def test_chat_speaks_only_as_the_configured_identity(sandbox: Sandbox, tmp_path: Path) -> None:
    alice = _as(sandbox, tmp_path, "cli:alice", f"test:{uuid.uuid4().hex}:")
    result = runner.invoke(app, ["chat", "--script", "-", "--config", alice],
                           input="as slack:U0LEAD: approve 1\nhelp\n")
    assert result.exit_code == 0, result.output
    assert messages.SPEAKS_AS.format(identity="cli:alice") in result.output
    assert "cli:alice> help" in result.output


def test_the_shipped_policy_refuses_every_action_needing_an_approval_in_words(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = yaml.safe_load(sandbox.settings_file.read_text())
    settings["redis"]["key_prefix"] = f"test:{uuid.uuid4().hex}:"
    del settings["policy_file"], settings["cli"]  # what a real install gets: the image's policy, the OS user
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(settings))
    code, out = opsbot("tool", "k8s_rollout_restart", "--namespace", "shop", "--deployment", "checkout",
                       "--severity", "P1", "--config", str(path))
    assert "[denied]" in out and ("nobody may approve T1 actions: policies name no member with an approving role; "
                                  "see docs/policy.md") in out, out
    code, out = opsbot("audit", "--since", "5m", "--action", "k8s_rollout_restart", "--config", str(path))
    assert re.search(r"cli:\S+\s+decision\s+deny\s+restart .*nobody may approve T1 actions", out), out


def test_action_list_says_whose_idea_each_action_was(sandbox: Sandbox, tmp_path: Path) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    alice = _as(sandbox, tmp_path, "cli:alice", prefix)
    door = build_door(load_settings(Path(alice)), prefix=prefix)
    args = {"namespace": "shop", "deployment": "checkout", "replicas": 4}
    door.run("k8s_scale", args, Caller(identity="slack:U0OPERATOR", via="model"))
    door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "cart"},
             Caller(identity="cli:alice", via="cli"))
    code, out = opsbot("action", "list", "--config", alice)
    assert code == 0, out
    lines = out.splitlines()
    scale = next(line for line in lines if "shop/checkout" in line)
    restart = next(line for line in lines if "shop/cart" in line)
    assert said.PROPOSED_BY_MODEL.format(requester="slack:U0OPERATOR") in scale, "never 'requested by' the asker"
    assert said.REQUESTED_BY.format(requester="cli:alice") in restart
