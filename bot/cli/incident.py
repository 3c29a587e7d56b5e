"""`opsbot incident list|show|postmortem|feedback`: the incidents opsbot recorded, one incident's story from start
to end, its postmortem draft, and your word on one (right cause, wrong cause, false alarm, not actionable), as its
card's buttons give it."""

from __future__ import annotations

from typing import Annotated, Literal

import redis
import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail
from bot.guard.audit import AuditUnavailable
from bot.intake.timeline import list_text, story_text, timelines

incident_app = typer.Typer(no_args_is_help=True, help="Incidents: list them, show one's timeline, draft its "
                           "postmortem, mark one.")
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


@incident_app.command("postmortem")
def incident_postmortem(incident_id: Annotated[str, typer.Argument(help="e.g. inc-42")],
                        config: ConfigOpt = None) -> None:
    """The incident's postmortem draft in Markdown: summary, impact window, timeline with durations, cause and
    evidence, what was done by whom, follow-ups (as posted in its card's thread when it resolved)."""
    from bot.cards.store import CardStore
    from bot.intake.figures import figure_book
    from bot.intake.postmortem import Postmortems

    settings = common.settings(config)
    book = figure_book(settings)
    try:
        draft = Postmortems(book, CardStore(book.incidents.client, settings.redis.key_prefix)).text(incident_id)
    except (redis.RedisError, AuditUnavailable):
        fail(UNREACHABLE)
    if draft is None:
        fail(f"no incident {incident_id!r}: `opsbot incident list` shows the recorded ones")
    typer.echo(draft)


@incident_app.command("feedback")
def incident_feedback(
    incident_id: Annotated[str, typer.Argument(help="e.g. inc-42")],
    mark: Annotated[str, typer.Argument(help="right-cause, wrong-cause, false-alarm or not-actionable")],
    note: Annotated[str, typer.Option(help="a few words on why, shown in the card's thread")] = "",
    config: ConfigOpt = None,
) -> None:
    """Mark an incident, as cli.identity: its card shows it, outcome learning and the knowledge store take it."""
    from bot.messages import FEEDBACK_MARKS
    from bot.cli.chat import build_decisions, feedback_desk
    from bot.wiring import build_door
    from knowledge.feedback import mark_of

    found = mark_of(mark)
    if found is None:
        fail(FEEDBACK_MARKS.format(got=mark))
    settings = common.settings(config)
    try:
        out = feedback_desk(settings, build_door(settings), build_decisions(settings)).mark(
            incident_id, common.me(settings), found, note)
    except redis.RedisError:
        fail(UNREACHABLE)
    if not out.ok:
        fail(out.message)
    typer.echo(out.message)
