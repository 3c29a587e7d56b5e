"""Telegram's alert cards: posted, edited, their thread and graph as replies, through the Bot API over HTTP
(synchronous: the Publisher runs in worker threads), within Telegram's limits (4,096 UTF-16 units a message,
1,024 a caption) and its flood control (a 429's `retry_after` is waited out)."""

from __future__ import annotations

import json
import time
from html import escape
from typing import Any

import httpx
import structlog

from bot.cards.model import Card
from bot.cards.routing import Route, route_for
from bot.cards.store import MessageRef
from bot.cards.telegram import MAX_TEXT, render_telegram, render_telegram_thread, size
from bot.chat.frontends import messages
from bot.settings import TelegramSettings

log = structlog.get_logger(__name__)

PLATFORM = "telegram"
MAX_CAPTION = 1_024  # a photo's caption


def cut(text: str, limit: int) -> str:
    """Plain text cut to `limit` UTF-16 units (Telegram's unit), with a notice when it was cut."""
    if size(text) <= limit:
        return text
    note = "\n" + messages.CUT.format(platform="Telegram")
    budget = limit - size(note) - 1
    out = text[:budget]
    while size(out) > budget:
        out = out[: -max(1, (size(out) - budget) // 2)]
    return out + "…" + note


FLOOD_RETRIES = 3
MAX_RETRY_AFTER_S = 60  # a longer flood wait fails the post: the Publisher retries the card later


class TelegramPoster:
    """Posts and edits alert cards in the alert chat, synchronously (the Publisher runs in worker threads)."""

    platform = PLATFORM

    def __init__(self, settings: TelegramSettings, chat_id: int | None = None, timeout_s: float = 10.0,
                 routes: list[Route] | None = None):
        self.routes = routes or []
        if settings.bot_token is None:
            raise ValueError("telegram.bot_token is not set")
        chat_id = chat_id if chat_id is not None else settings.alert_chat_id
        if chat_id is None:
            raise ValueError("telegram.alert_chat_id is not set")
        self.chat_id = chat_id
        self.http = httpx.Client(base_url=f"{settings.base_url}{settings.bot_token.get_secret_value()}/",
                                 timeout=timeout_s)

    def _call(self, method: str, body: dict[str, Any], files: dict[str, Any] | None = None) -> dict[str, Any]:
        """One Bot API call (multipart when it sends `files`); flood control's 429 is waited out as its
        `retry_after` says (up to MAX_RETRY_AFTER_S, FLOOD_RETRIES times), anything else that is not ok raises."""
        for attempt in range(FLOOD_RETRIES + 1):
            r = self.http.post(method, json=body) if files is None else self.http.post(method, data=body, files=files)
            data = r.json()
            if data.get("ok"):
                return data["result"]
            wait = (data.get("parameters") or {}).get("retry_after")
            if r.status_code != 429 or not isinstance(wait, int) or wait > MAX_RETRY_AFTER_S or \
                    attempt == FLOOD_RETRIES:
                raise RuntimeError(f"Telegram {method} failed: {data.get('description', r.status_code)}")
            log.warning("telegram_flood_wait", method=method, retry_after_s=wait, attempt=attempt + 1)
            time.sleep(wait)  # what Telegram asks for: any earlier call is refused again
        raise AssertionError("not reached")

    def post(self, card: Card) -> MessageRef:
        """In the alert chat, or the chat a route gives the card, with the route's @handles above it."""
        route, body = route_for(card, self.routes), render_telegram(card)
        chat_id = route.telegram_chat_id or self.chat_id
        mention = escape(route.telegram_mention or "", quote=False)
        if mention and size(body["text"]) + size(mention) + 1 <= MAX_TEXT:
            body["text"] = f"{mention}\n{body['text']}"
        msg = self._call("sendMessage", {"chat_id": chat_id, **body})
        if mention and not body["text"].startswith(mention):  # no room on the card: said in a reply to it
            self._call("sendMessage", {"chat_id": chat_id, "text": mention, "parse_mode": "HTML",
                                       "reply_parameters": {"message_id": msg["message_id"]}})
        return MessageRef(platform=PLATFORM, message_id=str(msg["message_id"]), channel=str(chat_id))

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        body = {"chat_id": ref.channel or self.chat_id, "message_id": int(ref.message_id), **render_telegram(card)}
        body.setdefault("reply_markup", {"inline_keyboard": []})  # a decided card loses its buttons
        try:
            self._call("editMessageText", body)
        except RuntimeError as e:
            if "message is not modified" not in str(e):
                raise
        return ref

    def thread(self, ref: MessageRef, card: Card) -> None:
        """The card's thread as replies to it (HTML, each within 4,096): every line the card leaves out."""
        for part in render_telegram_thread(card):
            self._call("sendMessage", {"chat_id": ref.channel or self.chat_id, "text": part, "parse_mode": "HTML",
                                       "link_preview_options": {"is_disabled": True},
                                       "reply_parameters": {"message_id": int(ref.message_id)}})

    def attach(self, ref: MessageRef, card: Card, png: bytes) -> None:
        """The graph as a photo replying to the card (sendPhoto: at most 10 MB, a caption of 1,024)."""
        body = {"chat_id": ref.channel or str(self.chat_id), "caption": cut(card.title, MAX_CAPTION),
                "reply_parameters": json.dumps({"message_id": int(ref.message_id)})}
        self._call("sendPhoto", body, files={"photo": ("graph.png", png, "image/png")})

    def reply(self, ref: MessageRef, text: str) -> None:
        """A message replying to the card (Telegram's thread), as plain text: no markup to escape."""
        self._call("sendMessage", {"chat_id": ref.channel or self.chat_id, "text": cut(text, MAX_TEXT),
                                   "reply_parameters": {"message_id": int(ref.message_id)}})

    def say(self, text: str, channel: str | None = None) -> None:
        """A plain message of its own in `channel` (a chat id), by default the alert chat."""
        self._call("sendMessage", {"chat_id": channel or self.chat_id, "text": cut(text, MAX_TEXT)})
