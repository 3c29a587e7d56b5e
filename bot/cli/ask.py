"""`opsbot ask QUESTION`: the chat agent from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, me


def ask_cmd(
    question: Annotated[str, typer.Argument(help="e.g. 'why is checkout failing?'")],
    thread: Annotated[str, typer.Option(help="conversation thread: memory is kept per thread")] = "cli",
    config: ConfigOpt = None,
) -> None:
    """Ask the agent a question as the settings' cli.identity (default cli:<OS user>); it investigates with the
    tools, through the door."""
    from bot.chat.agent import Agent
    from bot.guard.door import Caller
    from bot.wiring import build_door

    s = common.settings(config)
    answer = Agent(s, build_door(s)).ask(
        question, f"cli:{thread}", Caller(identity=me(s), via="cli"))
    for c in answer.calls:
        typer.echo(f"$ {c.invocation}  [{c.status.value}]" + (f" #{c.action_id}" if c.action_id else ""))
    typer.echo(answer.text)
    for action_id in answer.pending:
        typer.echo(f"pending approval #{action_id}: `opsbot action approve {action_id}` (by an approver)")
