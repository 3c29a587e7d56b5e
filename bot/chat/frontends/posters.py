"""The chat platforms alert cards go to: Slack and Telegram, each when its settings are complete (a default
alert channel or chat is required: it takes the cards no route matches)."""

from __future__ import annotations

from bot.cards.poster import Poster
from bot.settings import Settings


def chat_posters(settings: Settings) -> list[Poster]:
    posters: list[Poster] = []
    s, t = settings.slack, settings.telegram
    if s.bot_token and s.alert_channel:
        from bot.chat.frontends.slack_poster import SlackPoster, slack_client

        posters.append(SlackPoster(slack_client(s.bot_token.get_secret_value(), s.api_base_url), s.alert_channel,
                                   settings.routes))
    if t.bot_token and t.alert_chat_id is not None:
        from bot.chat.frontends.telegram_poster import TelegramPoster

        posters.append(TelegramPoster(t, routes=settings.routes))
    return posters
