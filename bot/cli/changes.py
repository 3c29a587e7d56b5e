"""`opsbot changes [NAMESPACE] --since 6h`: what changed, oldest first, through the one door as the command line's
caller (the `k8s_changes` tool: rollouts, scales, autoscaler decisions, Jobs, ConfigMaps and Secrets, nodes)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, me
from bot.guard.door import Caller
from bot.wiring import build_door
from tools.base import Status


def line(c: dict[str, Any]) -> str:
    """One change as a row: when (UTC), how long ago, the object, what changed (and by whom, when known)."""
    when = (c.get("at") or "")[:16].replace("T", " ")
    by = f" [by {c['by']}]" if c.get("by") and f"by {c['by']}" not in c.get("what", "") else ""
    return f"{when}  {c.get('age', ''):>5}  {c.get('kind')} {c.get('object')}: {c.get('what')}{by}"


def changes_cmd(
    namespace: Annotated[str | None, typer.Argument(help="the namespace; omit for every namespace")] = None,
    since: Annotated[str, typer.Option(help="how far back: 6h, 30m, 'since 10:00', an ISO time")] = "6h",
    limit: Annotated[int, typer.Option(help="at most this many changes, the newest kept")] = 50,
    config: ConfigOpt = None,
) -> None:
    """What changed, oldest first: rollouts (image before → after), scale events (from → to, by whom), autoscaler
    decisions, Jobs and CronJob runs, ConfigMaps and Secrets modified (never values), nodes; e.g.
    `opsbot changes shop --since 2h`."""
    s = common.settings(config)
    door = build_door(s)
    args: dict[str, Any] = {"since": since, "limit": limit, **({"namespace": namespace} if namespace else {})}
    result = door.run("k8s_changes", args, Caller(identity=me(s), via="cli"))
    typer.echo(f"$ {result.invocation}")
    if result.status == Status.error:
        typer.echo(f"opsbot: {result.error}", err=True)
        raise typer.Exit(1)
    if result.status != Status.success:
        typer.echo(f"nothing found: {result.notice}")
        return
    for c in result.data["changes"]:
        typer.echo(line(c))
    if result.notice:
        typer.echo(f"note: {result.notice}")
