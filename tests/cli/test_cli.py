"""The `opsbot` command as a human uses it, against the session sandbox."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from sandbox.manager import Sandbox

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


def test_policy_commands() -> None:
    code, out = opsbot("policy", "explain", "--tool", "k8s_scale", "--namespace", "shop", "--severity", "P1",
                       "--as", "slack:U0OPERATOR", "--name", "checkout", "--replicas", "3:6")
    assert code == 0 and "decision: approve (T2, P1)" in out and "self-approval not allowed" in out
    code, out = opsbot("policy", "whatcan", "slack:U0VIEWER")
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
