"""The configured chat frontends inside another server's event loop: `opsbot serve --chat` runs webhooks,
triage workers, Telegram (long polling) and Slack (Socket Mode) in one process, for a small install.

    app.router.lifespan_context = frontends_lifespan(settings, conversation, decisions, started.append)

Telegram is started the way python-telegram-bot documents for running beside another asyncio framework
(initialize, updater.start_polling, start; the reverse on shutdown); Slack's Socket Mode client connects on
its own threads. A frontend whose token is not set is not started, and `said` is told which ones were.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.settings import Settings


def frontends_lifespan(settings: Settings, chat: Conversation, decisions: Decisions,
                       said: Callable[[str], None]) -> Callable[[Any], Any]:
    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        telegram = slack = None
        if settings.telegram.bot_token is not None:
            from bot.chat.frontends.telegram import UPDATES, TelegramFrontend

            telegram = TelegramFrontend(settings.telegram, chat, decisions).application
            await telegram.initialize()
            assert telegram.updater is not None
            await telegram.updater.start_polling(allowed_updates=UPDATES)
            await telegram.start()
            said("telegram: long polling")
        if settings.slack.bot_token is not None and settings.slack.app_token is not None:
            from bot.chat.frontends.slack import SlackFrontend

            slack = SlackFrontend(settings.slack, chat, decisions).socket_mode()
            slack.connect()
            said("slack: Socket Mode")
        try:
            yield
        finally:
            if slack is not None:
                slack.close()
            if telegram is not None:
                assert telegram.updater is not None
                await telegram.updater.stop()
                await telegram.stop()
                await telegram.shutdown()

    return lifespan
