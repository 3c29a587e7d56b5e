"""`opsbot report --since 7d`: the outcome report over a period, as the served process posts it on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail


def report_cmd(
    since: Annotated[str, typer.Option(help="the period's start: '7d', '24h', 'last 30d' or an ISO time")] = "7d",
    config: ConfigOpt = None,
) -> None:
    """Alerts received → incidents → cards, what was suppressed, the noisiest rules, mean times to detect,
    acknowledge, approve, fix and resolve by severity, verified fix success, false alarms, actions run
    automatically vs approved."""
    import redis

    from bot.guard.audit import AuditUnavailable
    from bot.intake.figures import figure_book
    from bot.intake.report import Reports, text
    from bot.intake.stream import AlertStream
    from tools.base import ToolInputError
    from tools.timerange import parse_point

    settings = common.settings(config)
    now = datetime.now(UTC)
    try:
        start = parse_point(since, now)
    except ToolInputError as e:
        fail(str(e))
    if start >= now:
        fail(f"--since {since!r} is not in the past")
    book = figure_book(settings)
    try:
        report = Reports(AlertStream(book.incidents.client, settings.redis.key_prefix), book,
                         settings.intake.heartbeats).build(start, now)
    except (redis.RedisError, AuditUnavailable):
        fail("could not read the report's figures: Redis is unreachable")
    typer.echo(text(report))
