"""`opsbot demo`: the whole story on the sandbox, from alert to audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common
from bot.cli.common import DEFAULT_SANDBOX_DIR, DirOpt, fail
from bot.runs.demo import DemoFailed, run_demo
from sandbox import procs, scenario
from sandbox.manager import Sandbox


def demo_cmd(
    state_dir: DirOpt = DEFAULT_SANDBOX_DIR,
    scenario_name: Annotated[str | None, typer.Option("--scenario", help="default: the loaded one")] = None,
    question: Annotated[str, typer.Option(help="asked when a model is configured")] = "why is it failing?",
) -> None:
    """The whole story on the sandbox: alert → card → approval → recovery → resolution → knowledge → audit."""
    sb = Sandbox(state_dir)
    name = scenario_name or sb.loaded()
    if name is None:
        fail(f"no scenario loaded in {state_dir}; run `opsbot sandbox load NAME` or pass --scenario")
    try:
        sc = scenario.load(name)
        settings = common.settings(sb.settings_file)
        trail = run_demo(sb, sc, settings, typer.echo, question if settings.llm.model else None)
    except (scenario.ScenarioError, procs.SandboxError, DemoFailed) as e:
        fail(f"demo stopped: {e}")
    typer.echo(f"\ndemo complete: {len(trail)} audit records; the cluster recovered and the alert resolved")
