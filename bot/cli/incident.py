"""`opsbot incident list|show`: the incidents opsbot recorded, and one incident's story from start to end."""

from __future__ import annotations

from typing import Annotated, Literal

import redis
import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail
from bot.guard.audit import AuditUnavailable
from bot.intake.timeline import list_text, story_text, timelines

incident_app = typer.Typer(no_args_is_help=True, help="Incidents: list them, show one's timeline.")
UNREACHABLE = "could not read the incidents: Redis is unreachable"


@incident_app.command("list")
def incident_list(
    limit: Annotated[int, typer.Option(min=1, max=500, help="how many, newest first")] = 20,
    status: Annotated[Literal["firing", "resolved"] | None, typer.Option(help="only firing or resolved")] = None,
    config: ConfigOpt = None,
) -> None:
    """The newest incidents: id, status, severity, first seen, alerts counted, title."""
    try:
        typer.echo(list_text(timelines(common.settings(config)).recent(limit, status)))
    except redis.RedisError:
        fail(UNREACHABLE)


@incident_app.command("show")
def incident_show(incident_id: Annotated[str, typer.Argument(help="e.g. inc-42")], config: ConfigOpt = None) -> None:
    """One incident: what fired and resolved, the evidence, what was proposed, decided and executed."""
    try:
        story = timelines(common.settings(config)).story(incident_id)
    except (redis.RedisError, AuditUnavailable):
        fail(UNREACHABLE)
    if story is None:
        fail(f"no incident {incident_id!r}: `opsbot incident list` shows the recorded ones")
    typer.echo(story_text(story))
