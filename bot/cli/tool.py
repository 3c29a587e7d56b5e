"""`opsbot tool NAME --arg value …`: any tool through the one door, as the command line's caller."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail, me, print_result
from bot.guard.door import Caller
from bot.wiring import build_door
from tools.base import Status, ToolInputError


def _parse_tool_args(words: list[str]) -> dict[str, Any]:
    """`--namespace shop --tail 50 --previous` → {"namespace": "shop", "tail": "50", "previous": True}."""
    args: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise ToolInputError(f"expected --name value, got {word!r}")
        key, _, inline = word[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            args[key] = inline
        elif i + 1 < len(words) and not words[i + 1].startswith("--"):
            args[key] = words[i + 1]
            i += 1
        else:
            args[key] = True
        i += 1
    return args


def tool_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="tool name; omit to list the tools")] = None,
    severity: Annotated[str | None, typer.Option(help="incident severity for mutations: P0..P3, INFO")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run any tool through the one door, e.g. `opsbot tool k8s_list --namespace shop`; a mutation is requested
    as the settings' cli.identity (default cli:<OS user>)."""
    s = common.settings(config)
    door = build_door(s)
    if name is None:
        for t in door.tools.values():
            typer.echo(f"  {t.name:<20} {t.description.splitlines()[0]}")
        return
    try:
        args = _parse_tool_args(ctx.args)
    except ToolInputError as e:
        fail(str(e))
    try:
        caller = Caller(identity=me(s), via="cli", severity=severity)
    except ValueError:
        fail(f"unknown severity {severity!r}; one of P0, P1, P2, P3, INFO")
    result = door.run(name, args, caller)
    print_result(result)
    if result.status == Status.error:
        raise typer.Exit(1)
