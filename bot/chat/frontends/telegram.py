"""Telegram (python-telegram-bot): long polling or a webhook, the same handlers either way.

Only chats in `telegram.allowed_chat_ids` are served. A message from any other chat gets one polite refusal
(per chat, per process) and is then ignored: the people there learn why the bot is silent, and a bot added to
many groups cannot be made to spam. A button press is always answered (Telegram shows a spinner until it is).
The conversation core is synchronous (Redis, Kubernetes), so it runs in a worker thread; progress lines come
back to the event loop to edit one message.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from telegram import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.cards.model import Card
from bot.cards.store import MessageRef
from bot.cards.telegram import (
    APPROVE_PREFIX,
    DENY_PREFIX,
    MAX_TEXT,
    control_of,
    render_telegram,
    size,
)
from bot.chat.conversation import Conversation, Reply
from bot.chat.frontends import messages
from bot.chat.frontends.decision import Decisions, footer
from bot.chat.frontends.telegram_poster import PLATFORM, cut
from bot.http_input import WebhookError, error_body, parse_json, read_body
from bot.messages import NOT_THIS_CARD
from bot.settings import TelegramSettings

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000  # an Update is a few KB; Telegram caps a message at 4,096 characters
MAX_ANSWER = 200  # answerCallbackQuery text
CODE = re.compile(r"`([^`\n]+)`")
PRE = re.compile(r"```\n?(.*?)```", re.DOTALL)
UPDATES = ["message", "callback_query"]


def identity(user_id: int) -> str:
    return f"telegram:{user_id}"


def html_text(text: str) -> str:
    """Our plain reply as Telegram HTML: escaped, ``` blocks as <pre> (tables), `code` spans as code, within
    4,096 visible units."""
    escaped = PRE.sub(r"<pre>\1</pre>", escape(cut(text, MAX_TEXT), quote=False))
    return CODE.sub(r"<code>\1</code>", escaped)


def card_kwargs(card: Card, note: str | None = None) -> dict[str, Any]:
    """The renderer's body as python-telegram-bot keyword arguments (with a decision line, when it fits)."""
    body = render_telegram(card)
    text = body["text"]
    if note:
        extra = f"\n\n<i>{escape(note, quote=False)}</i>"
        if size(text) + size(extra) <= MAX_TEXT:
            text += extra
    kwargs: dict[str, Any] = {"text": text, "parse_mode": body["parse_mode"],
                              "link_preview_options": LinkPreviewOptions(is_disabled=True)}
    if body.get("reply_markup"):
        kwargs["reply_markup"] = InlineKeyboardMarkup.de_json(body["reply_markup"], None)
    return kwargs


class _Progress:
    """Called from the worker thread: sends one message, then edits it, on the event loop, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reply_to: Message):
        self.loop, self.reply_to = loop, reply_to
        self.message: Message | None = None
        self.lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self.lock:
            future = asyncio.run_coroutine_threadsafe(self.show(f"<i>{escape(line, quote=False)}</i>"), self.loop)
            try:
                future.result(timeout=15)
            except Exception as e:  # progress is a courtesy: never let it stop the work
                log.warning("telegram_progress_failed", error_type=type(e).__name__)

    async def show(self, text: str) -> None:
        if self.message is None:
            self.message = await self.reply_to.reply_html(text, do_quote=True)
        else:
            try:
                await self.message.edit_text(text, parse_mode="HTML")
            except BadRequest as e:
                if "not modified" not in str(e):
                    raise


def buttons_of(message: object) -> set[str]:
    """The callback data of the buttons on a message, as Telegram reports the message with the click."""
    markup = getattr(message, "reply_markup", None)
    rows = markup.inline_keyboard if markup is not None else ()
    return {b.callback_data for row in rows for b in row if isinstance(b.callback_data, str)}


def addressed(msg: Message, bot_id: int, username: str | None) -> bool:
    """Whether a group message is for opsbot: it mentions the bot, or replies to one of its messages."""
    replied = msg.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    return bool(username) and f"@{username}".lower() in (msg.text or "").lower()


class TelegramFrontend:
    def __init__(self, settings: TelegramSettings, chat: Conversation, decisions: Decisions | None = None,
                 concurrency: int = 16):
        if settings.bot_token is None:
            raise ValueError("telegram.bot_token is not set")
        self.settings, self.chat = settings, chat
        self.decisions = decisions or Decisions()
        self.allowed = set(settings.allowed_chat_ids)
        self._refused: set[int] = set()
        file_url = re.sub(r"/bot$", "/file/bot", settings.base_url)
        self.application = (Application.builder().token(settings.bot_token.get_secret_value())
                            .base_url(settings.base_url).base_file_url(file_url)
                            .concurrent_updates(concurrency).build())
        self.application.add_handler(TypeHandler(Update, self._gate), group=-1)
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_handler(MessageHandler(filters.COMMAND, self._on_command))
        self.application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, self._on_text))
        self.application.add_error_handler(self._on_error)

    # -- serving -----------------------------------------------------------------------------------------

    def run_polling(self) -> None:
        """Long polling (deletes any webhook first); blocks until interrupted."""
        self.application.run_polling(allowed_updates=UPDATES)

    def webhook_app(self, path: str = "/telegram/webhook") -> FastAPI:
        """The webhook endpoint: updates with the right secret token header are queued; others get 403."""
        if self.settings.webhook_secret is None:
            raise ValueError("telegram.webhook_secret is needed in webhook mode")
        secret = self.settings.webhook_secret.get_secret_value()

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.application.initialize()
            if self.settings.webhook_url:
                await self.application.bot.set_webhook(self.settings.webhook_url, secret_token=secret,
                                                       allowed_updates=UPDATES)
            await self.application.start()
            yield
            await self.application.stop()
            await self.application.shutdown()

        api = FastAPI(title="opsbot telegram", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

        @api.get("/healthz")
        def healthz() -> dict[str, bool]:
            return {"ok": True}

        @api.post(path)
        async def webhook(request: Request) -> Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                log.warning("telegram_webhook_bad_secret", client=request.client.host if request.client else None)
                return Response(status_code=403)
            try:  # the secret is checked first; then the body is bounded while read and parsed under bounds
                data = parse_json(await read_body(request, MAX_BODY_BYTES))
                if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                    raise WebhookError(400, "invalid_update", "not a Telegram Update: an object with update_id")
                update = Update.de_json(data, self.application.bot)
            except WebhookError as e:
                return JSONResponse(error_body(e.code, e.message), status_code=e.status)
            except Exception as e:  # de_json on a shape it does not know fails in many ways: all are 400
                log.warning("telegram_update_unreadable", error=f"{type(e).__name__}: {e}"[:300])
                return JSONResponse(error_body("invalid_update", "not a Telegram Update"), status_code=400)
            await self.application.update_queue.put(update)
            return Response(status_code=200)

        return api

    # -- handlers ----------------------------------------------------------------------------------------

    async def _gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None and chat.id in self.allowed:
            return
        if update.callback_query is not None:
            await update.callback_query.answer(messages.CLICK_NOT_ALLOWED, show_alert=True)
        elif chat is not None and update.message is not None and chat.id not in self._refused:
            self._refused.add(chat.id)
            log.info("telegram_chat_refused", chat=chat.id)
            await update.message.reply_text(messages.CHAT_NOT_ALLOWED.format(chat_id=chat.id))
        raise ApplicationHandlerStop

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        if msg is None or msg.text is None or msg.from_user is None:
            return
        first, _, rest = msg.text.partition(" ")
        verb, _, bot_name = first.lstrip("/").partition("@")
        if bot_name and bot_name.lower() != (context.bot.username or "").lower():
            return  # /command@otherbot in a group
        verb = "help" if verb in ("start", "help") else verb
        await self._converse(msg, f"{verb} {rest}".strip(), command=True)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        if msg is None or msg.text is None or msg.from_user is None:
            return
        if msg.chat.type in ("group", "supergroup") and not addressed(msg, context.bot.id, context.bot.username):
            return  # a group's own conversation: only commands, mentions and replies to opsbot are for it
        text = msg.text.replace(f"@{context.bot.username}", "").strip()
        await self._converse(msg, text, command=False)

    async def _converse(self, msg: Message, text: str, command: bool) -> None:
        assert msg.from_user is not None
        progress = _Progress(asyncio.get_running_loop(), msg)
        thread, incident = f"telegram:{msg.chat_id}", None
        replied, store = msg.reply_to_message, self.decisions.store
        if replied is not None and store is not None:  # a reply to an alert card is about its incident
            incident = await asyncio.to_thread(store.incident_of, PLATFORM, str(msg.chat_id), str(replied.message_id))
            thread = f"{thread}:{replied.message_id}" if incident else thread
        who = identity(msg.from_user.id)
        try:
            call = self.chat.command if command else self.chat.ask
            reply: Reply = await asyncio.to_thread(call, text, thread, who, progress, incident)
            await self._deliver(msg, reply, progress)
        except Exception:
            log.exception("telegram_message_failed", chat=msg.chat_id)
            await progress.show(escape(messages.FAILED, quote=False))

    async def _deliver(self, msg: Message, reply: Reply, progress: _Progress) -> None:
        # a group has no private replies: a refusal or usage line goes to the same thread, quoting the asker
        await progress.show(html_text(reply.text))
        if reply.card is not None:
            sent = await msg.reply_text(do_quote=True, **card_kwargs(reply.card))
            ref = MessageRef(platform=PLATFORM, channel=str(sent.chat_id), message_id=str(sent.message_id))
            await asyncio.to_thread(self.decisions.posted, reply.card, ref)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        data = query.data or ""
        if (control := control_of(data)) is not None:
            await self._on_control(query, data, *control)
            return
        if not data.startswith((APPROVE_PREFIX, DENY_PREFIX)):
            await query.answer(messages.UNKNOWN_BUTTON, show_alert=True)
            return
        approve, action_id = data.startswith(APPROVE_PREFIX), data.split(":", 1)[1]
        on_its_card = data in buttons_of(query.message)  # callback_data is the client's to choose; not the message
        if not on_its_card:
            log.warning("telegram_click_not_on_its_card", action=action_id, user=query.from_user.id)
        answered = False
        try:
            result = await asyncio.to_thread(self.chat.click, action_id, identity(query.from_user.id), approve,
                                             on_its_card)
            text = result.reply.text
            await query.answer(text if len(text) <= MAX_ANSWER else text[: MAX_ANSWER - 1] + "…",
                               show_alert=result.reply.private)
            answered = True
            if result.updated is not None and isinstance(query.message, Message):
                card, published = await asyncio.to_thread(self.decisions.apply, result.updated, PLATFORM)
                if published is None or published.message_id != str(query.message.message_id):
                    who = query.from_user.full_name or identity(query.from_user.id)
                    note = footer(text, who, self.decisions.now())
                    try:
                        await query.message.edit_text(**card_kwargs(card, note))
                    except BadRequest as e:
                        if "not modified" not in str(e):
                            raise
        except Exception:
            log.exception("telegram_click_failed", action=action_id)
            if not answered:
                await query.answer(messages.FAILED[:MAX_ANSWER], show_alert=True)

    async def _on_control(self, query: CallbackQuery, data: str, verb: str, incident_id: str) -> None:
        """Acknowledge / Silence / Unsilence and the feedback marks: the silencer or the feedback desk edits the card;
        the clicker gets the answer."""
        try:
            if data not in buttons_of(query.message):
                reply = Reply(text=NOT_THIS_CARD, private=True)
            else:
                reply = await asyncio.to_thread(self.chat.control, verb, incident_id, identity(query.from_user.id))
            text = reply.text
            await query.answer(text if len(text) <= MAX_ANSWER else text[: MAX_ANSWER - 1] + "…",
                               show_alert=reply.private)
        except Exception:
            log.exception("telegram_control_failed", control=data)
            await query.answer(messages.FAILED[:MAX_ANSWER], show_alert=True)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram_handler_error", error_type=type(context.error).__name__)
