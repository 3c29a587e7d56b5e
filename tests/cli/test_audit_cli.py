"""`opsbot audit --target` finds an object's records whatever form they were filed under: the README's
`shop/cart` finds the gate's `shop/deployment/cart` decisions, approvals and executions, and the reverse."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from bot.guard.door import Caller
from bot.settings import Settings
from tests.cli.test_policy_cli import door_and_config
from tools.base import Status


def _audit(config: Path, target: str) -> list[str]:
    result = CliRunner().invoke(app, ["audit", "--since", "10m", "--target", target, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_the_readme_target_form_finds_the_approvals(mutable_settings: Settings, tmp_path: Path) -> None:
    door, config = door_and_config(tmp_path, mutable_settings)
    asked = door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "cart"},
                     Caller(identity="slack:U0OP", via="chat", severity="P3"))
    assert asked.status == Status.approval_required, asked.error
    assert door.gate.decide(asked.data["action_id"], "cli:tester", approve=True).ok
    door.run("k8s_list", {"namespace": "shop", "kind": "Deployment", "name": "checkout"},
             Caller(identity="slack:U0OP", via="chat"))

    for form in ("shop/cart", "shop/deployment/cart", "shop/Deployment/cart", "cart"):
        lines = _audit(config, form)
        kinds = {line.split()[3] for line in lines}
        assert {"tool_call", "decision", "approval", "execution"} <= kinds, (form, lines)
        assert any("cli:tester" in line and " approval " in line for line in lines), (form, lines)
        assert not any("checkout" in line for line in lines), (form, lines)
    other_kind = _audit(config, "shop/statefulset/cart")  # a tool call filed without its kind may still be it
    assert not {line.split()[3] for line in other_kind} & {"decision", "approval", "execution"}, other_kind
