"""`opsbot audit`: the audit trail, filtered by time, identity, target and action."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail
from bot.guard.audit import AuditUnavailable
from bot.wiring import build_door
from tools.base import ToolInputError
from tools.timerange import parse_point


def audit_cmd(
    since: Annotated[str, typer.Option(help="'12h', 'last 30m' or an ISO time")] = "12h",
    identity: Annotated[str | None, typer.Option("--as", help="only this identity")] = None,
    target: Annotated[str | None, typer.Option(help="only this object: NAMESPACE/NAME, NAMESPACE/KIND/NAME or NAME "
                                                     "(its pods too), however each record filed it")] = None,
    action: Annotated[str | None, typer.Option(help="only this tool or action")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print the audit trail: who asked for what, when, and how it went."""
    door = build_door(common.settings(config))
    try:
        start = parse_point(since, door.ctx.now())
    except ToolInputError as e:
        fail(str(e))
    try:
        records = door.audit.query(since=start, identity=identity, target=target, action=action)
    except AuditUnavailable as e:
        fail(str(e))
    if not records:
        typer.echo(f"no audit records since {start:%Y-%m-%d %H:%M:%S} UTC matching the filters")
        return
    for r in records:
        took = f" {r.duration_ms:.0f}ms" if r.duration_ms is not None else ""
        typer.echo(f"{r.at:%Y-%m-%d %H:%M:%S} {r.identity:<18} {r.kind:<10} {r.status:<9}{took}  {r.summary}")
