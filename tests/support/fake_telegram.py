"""A fake of the Telegram Bot API on loopback (`/bot<token>/<method>`): records calls, keeps messages, checks
what Telegram checks.

It takes form-encoded bodies (what python-telegram-bot sends; nested values as JSON strings), multipart (a
file) and JSON. sendPhoto takes an uploaded file part of at most 10 MB, a PNG (width + height ≤ 10,000, ratio
≤ 20) or JPEG, a caption ≤ 1,024, and a reply to a message that exists.
Checks: the token; chat_id and text present; text ≤ 4,096 UTF-16 units after entity parsing; HTML parse
mode well formed (only Telegram's tags, closed in order, every `<`, `>` and `&` escaped); callback_data
≤ 64 bytes; callback answer text ≤ 200; editing a missing message, or with nothing changed, fails as it does on
Telegram ("message is not modified"); getUpdates while a webhook is set is a 409 conflict; with `flood` set,
messages to a chat beyond its rate get 429 with `parameters.retry_after`, as Telegram's flood control answers.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from bot.settings import TelegramSettings
from tests.support.calls import Call, CallLog

BOT = {"id": 4242, "is_bot": True, "first_name": "opsbot", "username": "opsbot_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler",
        "blockquote", "tg-emoji"}
TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)((?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*>|&(?:#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
JSON_FIELDS = ("reply_markup", "entities", "reply_parameters", "link_preview_options", "allowed_updates")
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


class BadRequest(Exception):
    def __init__(self, description: str, code: int = 400):
        super().__init__(description)
        self.description, self.code = description, code


def multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """A multipart/form-data body's fields: a file part as bytes, any other as text."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, Any] = {}
    for part in raw.split(b"--" + boundary)[1:-1]:
        head, _, body = part[2:].partition(b"\r\n\r\n")  # after the boundary's line end: headers, blank line
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            value = body[:-2]  # the line end before the next boundary
            fields[name.group(1).decode()] = value if b"filename=" in head else value.decode()
    return fields


def check_photo(photo: Any) -> None:
    """What sendPhoto refuses of an uploaded photo, as Telegram words it."""
    if not isinstance(photo, bytes):
        raise BadRequest("Bad Request: wrong remote file identifier specified")  # this fake takes uploads only
    if len(photo) > PHOTO_MAX_BYTES:
        raise BadRequest("Request Entity Too Large", 413)
    if not photo.startswith((PNG, JPEG)):
        raise BadRequest("Bad Request: IMAGE_PROCESS_FAILED")
    if photo.startswith(PNG):
        width, height = int.from_bytes(photo[16:20]), int.from_bytes(photo[20:24])
        if width + height > 10_000 or max(width, height) > 20 * max(1, min(width, height)):
            raise BadRequest("Bad Request: PHOTO_INVALID_DIMENSIONS")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_html(text: str) -> str:
    """The visible text of an HTML-mode message, or BadRequest as Telegram words it."""
    stack: list[str] = []
    out, pos = [], 0
    for m in TOKEN.finditer(text):
        plain = text[pos:m.start()]
        for ch in "<>&":
            if ch in plain:
                raise BadRequest(f"Bad Request: can't parse entities: unescaped {ch!r} at byte offset "
                                 f"{len(text[:pos + plain.index(ch)].encode())}")
        out.append(plain)
        pos = m.end()
        if m.group(0).startswith("&"):
            out.append(html.unescape(m.group(0)))
            continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        if name not in TAGS:
            raise BadRequest(f"Bad Request: can't parse entities: unsupported start tag \"{name}\"")
        if closing:
            if not stack or stack[-1] != name:
                raise BadRequest(f"Bad Request: can't parse entities: can't find end tag corresponding to \"{name}\"")
            stack.pop()
        else:
            stack.append(name)
    tail = text[pos:]
    for ch in "<>&":
        if ch in tail:
            raise BadRequest(f"Bad Request: can't parse entities: unescaped {ch!r}")
    if stack:
        raise BadRequest(f"Bad Request: can't parse entities: can't find end tag corresponding to \"{stack[-1]}\"")
    return "".join([*out, tail])


def check_markup(markup: dict[str, Any] | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise BadRequest("Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")


@dataclass
class FakeTelegram(CallLog):
    token: str = "4242:test-token"
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _msg_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _callback_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # Flood control as Telegram applies it to a group (20 messages a minute): (messages, window seconds), or
    # None. Beyond it, 429 with parameters.retry_after, the whole seconds until the window has room again.
    flood: tuple[int, float] | None = None
    _sent: dict[int, list[float]] = field(default_factory=dict)

    # -- what tests do -------------------------------------------------------------------------------

    def message_update(self, chat_id: int, user_id: int, text: str, chat_type: str = "group",
                       reply_to: int | None = None) -> dict[str, Any]:
        """A user's message, as an update (the test pushes it or posts it to the webhook); `reply_to` makes it
        a reply to the bot's message of that id."""
        with self._lock:
            mid = next(self._msg_ids)
            uid = next(self._update_ids)
            replied = self.messages[chat_id, reply_to] if reply_to is not None else None
        entities = ([{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
                    if text.startswith("/") else [])
        chat = {"id": chat_id, "type": chat_type, **({"title": "ops"} if chat_type != "private" else {})}
        message: dict[str, Any] = {
            "message_id": mid, "date": int(time.time()), "text": text, "entities": entities, "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}}
        if replied is not None:
            message["reply_to_message"] = {"message_id": reply_to, "date": replied["date"], "chat": chat,
                                           "text": replied["plain"], "from": BOT}
        return {"update_id": uid, "message": message}

    def callback_update(self, chat_id: int, user_id: int, message_id: int, data: str) -> dict[str, Any]:
        """A button press on one of the bot's messages."""
        with self._lock:
            msg = self.messages[chat_id, message_id]
            uid, cid = next(self._update_ids), next(self._callback_ids)
        return {"update_id": uid, "callback_query": {
            "id": f"cq{cid}", "chat_instance": str(chat_id), "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "message": {"message_id": message_id, "date": msg["date"], "text": msg["plain"],
                        "chat": msg["chat"], "from": BOT,
                        **({"reply_markup": msg["reply_markup"]} if msg.get("reply_markup") else {})}}}

    def photos(self, chat_id: int) -> list[dict[str, Any]]:
        """The photos sent to a chat, as kept (`photo` the bytes, `reply_to` the message they reply to)."""
        with self._lock:
            return [m for (c, _), m in self.messages.items() if c == chat_id and "photo" in m]

    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (long polling)."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()

    # -- the server ------------------------------------------------------------------------------------

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/healthz")
        def healthz() -> dict[str, bool]:
            return {"ok": True}

        @api.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> JSONResponse:
            raw, kind = await request.body(), request.headers.get("content-type", "")
            if kind.startswith("application/json") and raw:
                args = json.loads(raw)
            else:
                multi = kind.startswith("multipart/form-data")
                args = multipart(raw, kind) if multi else dict(parse_qsl(raw.decode(), keep_blank_values=True))
                for k in JSON_FIELDS:
                    if isinstance(args.get(k), str):
                        args[k] = json.loads(args[k])
            if token != self.token:
                return self._fail(method, args, BadRequest("Unauthorized", 401))
            if method == "getUpdates":
                return await self._get_updates(args)
            wait = self._flooded(method, args)
            if wait:
                with self._lock:
                    self.calls.append(Call(method, args, f"Too Many Requests: retry after {wait}"))
                    self._lock.notify_all()
                return JSONResponse({"ok": False, "error_code": 429, "parameters": {"retry_after": wait},
                                     "description": f"Too Many Requests: retry after {wait}"}, 429)
            try:
                with self._lock:
                    result = self._answer(method, args)
                    self.calls.append(Call(method, args, result=result))
                    self._lock.notify_all()
            except BadRequest as e:
                return self._fail(method, args, e)
            return JSONResponse({"ok": True, "result": result})

        return api

    def _flooded(self, method: str, args: dict[str, Any]) -> int:
        """Seconds to wait before this chat may be sent to again (0: it may now)."""
        if self.flood is None or method not in ("sendMessage", "editMessageText", "sendPhoto"):
            return 0
        limit, window = self.flood
        now, chat = time.monotonic(), int(args.get("chat_id", 0))
        with self._lock:
            recent = [t for t in self._sent.get(chat, []) if now - t < window]
            if len(recent) >= limit:
                self._sent[chat] = recent
                return max(1, int(window - (now - recent[0]) + 0.999))
            self._sent[chat] = [*recent, now]
        return 0

    def _fail(self, method: str, args: dict[str, Any], e: BadRequest) -> JSONResponse:
        with self._lock:
            self.calls.append(Call(method, args, e.description))
            self._lock.notify_all()
        return JSONResponse({"ok": False, "error_code": e.code, "description": e.description}, e.code)

    async def _get_updates(self, args: dict[str, Any]) -> JSONResponse:
        if self.webhook:
            return self._fail("getUpdates", args, BadRequest(
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
                "webhook first", 409))
        offset, timeout = int(args.get("offset") or 0), float(args.get("timeout") or 0)
        ready = await asyncio.to_thread(self._take_updates, args, offset, min(timeout, 2.0))
        return JSONResponse({"ok": True, "result": ready})

    def _take_updates(self, args: dict[str, Any], offset: int, wait_s: float) -> list[dict[str, Any]]:
        """The long poll: drop confirmed updates, then wait (on the condition new updates notify) for one."""
        with self._lock:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self._lock.wait_for(lambda: bool(self._updates), wait_s)
            self.calls.append(Call("getUpdates", args))
            self._lock.notify_all()
            return list(self._updates)

    def _answer(self, method: str, args: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "setWebhook":
            if not args.get("url"):
                raise BadRequest("Bad Request: bad webhook: URL must be provided")
            secret = args.get("secret_token", "")
            if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
                raise BadRequest("Bad Request: secret token contains unallowed characters")
            self.webhook = args
            return True
        if method == "deleteWebhook":
            self.webhook = None
            return True
        if method == "getWebhookInfo":
            return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": 0}
        if method == "answerCallbackQuery":
            if not args.get("callback_query_id"):
                raise BadRequest("Bad Request: query is too old and response timeout expired or query ID is invalid")
            if len(args.get("text", "")) > 200:
                raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
            return True
        if method in ("sendMessage", "editMessageText"):
            return self._message(method, args)
        if method == "sendPhoto":
            return self._photo(args)
        raise BadRequest(f"Not Found: method {method} is not served by this fake", 404)

    def _photo(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("chat_id"):
            raise BadRequest("Bad Request: chat_id is empty")
        photo, caption, chat_id = args.get("photo"), args.get("caption", ""), int(args["chat_id"])
        check_photo(photo)
        plain = check_html(caption) if args.get("parse_mode") == "HTML" else caption
        if utf16(plain) > 1024:
            raise BadRequest("Bad Request: message caption is too long")
        reply = (args.get("reply_parameters") or {}).get("message_id") or args.get("reply_to_message_id")
        if reply is not None and (chat_id, int(reply)) not in self.messages:
            raise BadRequest("Bad Request: message to be replied not found")
        mid = next(self._msg_ids)
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        self.messages[chat_id, mid] = {"message_id": mid, "date": int(time.time()), "chat": chat, "text": "",
                                       "plain": plain, "photo": photo, "reply_to": int(reply) if reply else None}
        size = {"file_id": f"photo-{mid}", "file_unique_id": f"p{mid}", "file_size": len(photo)}
        return {"message_id": mid, "date": int(time.time()), "chat": chat, "from": BOT, "photo": [size],
                "caption": plain}

    def _message(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("chat_id"):
            raise BadRequest("Bad Request: chat_id is empty")
        text = args.get("text", "")
        if not text:
            raise BadRequest("Bad Request: message text is empty")
        plain = check_html(text) if args.get("parse_mode") == "HTML" else text
        if utf16(plain) > 4096:
            raise BadRequest("Bad Request: message is too long")
        markup = args.get("reply_markup")
        check_markup(markup)
        chat_id = int(args["chat_id"])
        if method == "editMessageText":
            key = (chat_id, int(args.get("message_id") or 0))
            if key not in self.messages:
                raise BadRequest("Bad Request: message to edit not found")
            msg = self.messages[key]
            if msg["text"] == text and msg.get("reply_markup") == markup:
                raise BadRequest("Bad Request: message is not modified: specified new message content and reply "
                                 "markup are exactly the same as a current content and reply markup of the message")
            msg.update(text=text, plain=plain, reply_markup=markup, edit_date=int(time.time()))
        else:
            reply = (args.get("reply_parameters") or {}).get("message_id") or args.get("reply_to_message_id")
            mid = next(self._msg_ids)
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
            msg = {"message_id": mid, "date": int(time.time()), "chat": chat, "text": text, "plain": plain,
                   "reply_markup": markup, "reply_to": int(reply) if reply else None,
                   "parse_mode": args.get("parse_mode")}
            self.messages[chat_id, mid] = msg
        out = {"message_id": msg["message_id"], "date": msg["date"], "chat": msg["chat"], "from": BOT,
               "text": msg["plain"]}
        if msg.get("reply_markup"):
            out["reply_markup"] = msg["reply_markup"]
        if "edit_date" in msg:
            out["edit_date"] = msg["edit_date"]
        return out


@contextmanager
def running() -> Iterator[FakeTelegram]:
    """A fake Bot API served on loopback (its `base_url` set); on exit, nothing Telegram would have refused."""
    from tests.support.chatkit import served

    fake = FakeTelegram()
    with served(fake.app()) as server:
        fake.base_url = f"{server.url}/bot"  # type: ignore[attr-defined]
        yield fake
    assert not fake.errors(), f"Telegram would have rejected: {[(c.method, c.error) for c in fake.errors()]}"


def telegram_settings(fake: FakeTelegram, chat_id: int) -> TelegramSettings:
    """opsbot's Telegram frontend and poster on this fake: alert cards to `chat_id`, which may talk to opsbot."""
    return TelegramSettings(bot_token=SecretStr(fake.token), allowed_chat_ids=[chat_id], alert_chat_id=chat_id,
                            webhook_secret=SecretStr("s3cret"), webhook_url="https://opsbot.example/telegram/webhook",
                            base_url=fake.base_url)  # type: ignore[attr-defined]
