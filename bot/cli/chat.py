"""`opsbot chat`, `opsbot serve-slack`, `opsbot serve-telegram`: the frontends from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt

if TYPE_CHECKING:
    from bot.chat.conversation import Conversation
    from bot.chat.frontends.decision import Decisions
    from bot.guard.door import Door
    from bot.guard.feedback import FeedbackDesk
    from bot.settings import Settings



def build_conversation(settings: Settings, door: Door | None = None) -> Conversation:
    """The conversation core on the configured backends (the door, and the agent if a model is set)."""
    from bot.chat.agent import Agent
    from bot.chat.conversation import Conversation
    from bot.chat.limits import QuestionLimits
    from bot.chat.troubleshoot import troubleshooter
    from bot.guard.silencer import Silencer
    from bot.intake.timeline import timelines
    from bot.wiring import build_door

    door = door or build_door(settings)
    namespaces = settings.chat.namespaces
    decisions = build_decisions(settings)
    assert decisions.store is not None and decisions.publisher is not None
    c = settings.chat
    limits = QuestionLimits(decisions.store.client, settings.redis.key_prefix, c.questions_per_user_per_hour,
                            c.questions_per_channel_per_hour)
    return Conversation(door, Agent(settings, door), namespaces, troubleshooter(door, namespaces),
                        timelines(settings), Silencer(door, decisions.store, decisions.publisher), limits,
                        feedback_desk(settings, door, decisions))


def feedback_desk(settings: Settings, door: Door, decisions: Decisions) -> FeedbackDesk:
    """People's marks on incidents, learned where `opsbot serve` learns (the configured Redis and knowledge)."""
    from bot.guard.feedback import FeedbackDesk
    from bot.wiring import outcomes

    assert decisions.store is not None and decisions.publisher is not None
    return FeedbackDesk(door, decisions.store, decisions.publisher, outcomes(settings),
                        lambda: door.ctx.backends.knowledge)


def build_decisions(settings: Settings) -> Decisions:
    """Card store and publisher, so a decision in one chat edits the alert card on every platform."""
    from bot.cards.poster import Publisher
    from bot.cards.store import CardStore
    from bot.chat.frontends.decision import Decisions
    from bot.chat.frontends.posters import chat_posters
    from bot.wiring import redis_client

    store = CardStore(redis_client(settings), settings.redis.key_prefix)
    return Decisions(store, Publisher(store, chat_posters(settings)))


def chat_cmd(
    script: Annotated[Path | None, typer.Option(help="run the lines of FILE ('-' for stdin) and exit")] = None,
    config: ConfigOpt = None,
) -> None:
    """Talk to opsbot in the terminal, as the settings' cli.identity (default cli:<OS user>)."""
    from bot.chat.frontends.console import Console

    s = common.settings(config)
    console = Console(build_conversation(s), common.me(s), typer.echo, switch=False)
    if script is None:
        console.interactive()
    elif str(script) == "-":
        console.script(sys.stdin)
    else:
        if not script.is_file():
            common.fail(f"script {script} does not exist")
        console.script(script.read_text().splitlines())


HealthPort = Annotated[int, typer.Option("--health-port", help="serve /healthz and /readyz on this port "
                                                                 "(0: none), for the kubelet's probes")]


def _health(settings: Settings, host: str, port: int) -> None:
    if port:
        from bot.chat.frontends.health import serve_health
        from bot.wiring import redis_client

        serve_health(redis_client(settings), host, port)


def serve_slack_cmd(
    http: Annotated[bool, typer.Option("--http", help="serve HTTP events instead of Socket Mode")] = False,
    health_port: HealthPort = 0,
    config: ConfigOpt = None,
) -> None:
    """Run the Slack bot: Socket Mode (slack.app_token) or HTTP events (slack.signing_secret)."""
    from bot.chat.frontends.slack import SlackFrontend

    settings = common.settings(config)
    _health(settings, settings.slack.host, health_port)
    try:
        frontend = SlackFrontend(settings.slack, build_conversation(settings), build_decisions(settings))
        if http:
            import uvicorn

            uvicorn.run(frontend.http_app(), host=settings.slack.host, port=settings.slack.port)
        else:
            frontend.socket_mode().start()
    except ValueError as e:  # a missing token or secret: a configuration mistake, said at start-up
        common.fail(str(e))


def serve_telegram_cmd(
    webhook: Annotated[bool, typer.Option("--webhook", help="serve a webhook instead of long polling")] = False,
    health_port: HealthPort = 0,
    config: ConfigOpt = None,
) -> None:
    """Run the Telegram bot: long polling, or a webhook checked against telegram.webhook_secret."""
    from bot.chat.frontends.telegram import TelegramFrontend

    settings = common.settings(config)
    _health(settings, settings.telegram.host, health_port)
    try:
        frontend = TelegramFrontend(settings.telegram, build_conversation(settings), build_decisions(settings))
        if webhook:
            import uvicorn

            uvicorn.run(frontend.webhook_app(), host=settings.telegram.host, port=settings.telegram.port)
        else:
            frontend.run_polling()
    except ValueError as e:
        common.fail(str(e))
