"""`opsbot serve`: the webhooks and the triage workers (and, with --chat, the chat frontends) in one process."""

from __future__ import annotations

from typing import Annotated

import redis
import typer

from bot.cards.poster import ConsolePoster, Poster
from bot.cli import common
from bot.cli.common import ConfigOpt
from bot.metrics import Metrics
from bot.settings import Settings
from bot.wiring import build_door, redis_client, redis_durability


def posters_for(settings: Settings) -> list[Poster]:
    """The console, and Slack and Telegram when they are configured."""
    from bot.chat.frontends.posters import chat_posters

    return [ConsolePoster(echo=typer.echo), *chat_posters(settings)]


def startup_warnings(settings: Settings) -> list[str]:
    """What `opsbot serve` warns about before it starts: a Redis that may lose or evict data, an open intake, an
    Alertmanager intake that would refuse every delivery."""
    try:
        warnings = [f"{problem} (docs/operations.md)" for problem in redis_durability(redis_client(settings))]
    except redis.RedisError as e:
        warnings = [f"Redis is not reachable yet ({type(e).__name__}); the webhooks answer 503 and the workers "
                    "retry until it is"]
    if settings.webhooks.alertmanager_token is None and settings.webhooks.alertmanager_open:
        warnings.append("the Alertmanager webhook accepts posts without a bearer token (webhooks.alertmanager_open); "
                        "set webhooks.alertmanager_token outside a sandbox")
    from bot.config.am_receivers import receiver_problems  # what `opsbot config check` says of the same settings
    from bot.config.check import intake_refusals

    return warnings + intake_refusals(settings) + receiver_problems(settings)


def serve_cmd(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="listen address (default webhooks.host)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default webhooks.port)")] = None,
    workers: Annotated[int | None, typer.Option(help="triage worker threads (default intake.workers)")] = None,
    chat: Annotated[bool, typer.Option("--chat", help="also run the configured chat frontends in this process "
                                                      "(Telegram long polling, Slack Socket Mode): the whole "
                                                      "ChatOps loop in one process, for a small install")] = False,
) -> None:
    """Serve the Alertmanager and Sentry webhooks and run the triage workers that turn alerts into cards."""
    from bot.intake.pipeline import build_pipeline, knowledge_triage
    from knowledge.client import KnowledgeUnavailable

    settings = common.settings(config)
    for warning in startup_warnings(settings):
        typer.echo(f"opsbot: warning: {warning}", err=True)
    door = build_door(settings)
    try:
        triage, kt = knowledge_triage(settings, door, settings.redis.key_prefix, Metrics())
    except KnowledgeUnavailable as e:  # the knowledge store opens at start-up: a wrong chroma_url fails here
        common.fail(str(e))
    p = build_pipeline(settings, posters_for(settings), door=door, triage=triage, metrics=triage.metrics,
                       learn=kt.resolved, outcomes=kt.outcomes)
    if chat:
        from bot.chat.frontends.together import frontends_lifespan
        from bot.cli.chat import build_conversation, build_decisions

        p.app.app.router.lifespan_context = frontends_lifespan(
            settings, build_conversation(settings, door), build_decisions(settings),
            lambda started: typer.echo(f"opsbot: {started}"))
    p.start_workers(workers)
    h, po = host or settings.webhooks.host, port or settings.webhooks.port
    typer.echo(f"opsbot: webhooks on http://{h}:{po}/webhooks/alertmanager and /webhooks/sentry; "
               f"{len(p.threads)} triage workers" + ("; chat frontends starting" if chat else ""))
    try:
        p.serve(h, po)
    finally:
        p.stop_workers()
