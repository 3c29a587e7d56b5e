"""Slack (slack-bolt): one App whose listeners serve both Socket Mode and HTTP events.

Mentions, DMs and plain replies in a thread opsbot started or answered in are questions (or commands)
answered in the thread; `/opsbot ...` is a command; the Approve / Deny buttons of a card are decisions. A
payload of any other shape is refused before bolt reads it (slack_payloads). Every listener acknowledges
first (bolt returns the 200 as soon as `ack()` runs: process_before_response=False) and works after, on
bolt's thread pool. Progress lines edit one message. Failures end at this edge as a plain sentence; the stack
trace goes to the log only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_bolt import App, BoltContext, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.cards.model import Card
from bot.cards.slack import APPROVE_ID, CONTROL_PREFIX, DENY_ID, esc, render_slack
from bot.cards.store import MessageRef
from bot.chat.conversation import Conversation, Reply
from bot.chat.frontends import messages
from bot.chat.frontends.decision import Decisions, footer
from bot.chat.frontends.slack_payloads import from_http, problem, signed, ssl_check
from bot.chat.frontends.slack_poster import PLATFORM, slack_client
from bot.chat.frontends.slack_state import Seen, Threads
from bot.http_input import WebhookError, error_body, read_body
from bot.messages import NOT_THIS_CARD
from bot.settings import SlackSettings

log = structlog.get_logger(__name__)

MAX_TEXT = 3_900  # one message's text: Slack refuses about 4,000 and more with msg_too_long
MAX_PARTS = 8  # a longer reply is cut after this many messages in the thread
MAX_BODY_BYTES = 1_000_000  # an Events API or interactivity request is a few KB
MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def identity(user_id: str) -> str:
    return f"slack:{user_id}"


def incoming(text: str) -> str:
    """A message as the user typed it: mentions removed, Slack's &amp; &lt; &gt; undone."""
    text = MENTION.sub("", text or "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def outgoing(text: str) -> list[str]:
    """Our text for Slack, escaped (a log line must not become <!channel>), as messages of at most MAX_TEXT
    characters split at line ends; past MAX_PARTS messages it is cut with a notice."""
    parts, part = [], ""
    for line in esc(text).splitlines() or [""]:
        while len(line) > MAX_TEXT:  # one enormous line: split it where it must be
            if part:
                parts.append(part)
                part = ""
            parts.append(line[:MAX_TEXT])
            line = line[MAX_TEXT:]
        if part and len(part) + 1 + len(line) > MAX_TEXT:
            parts.append(part)
            part = line
        else:
            part = f"{part}\n{line}" if part else line
    parts.append(part)
    if len(parts) > MAX_PARTS:
        note = "\n" + messages.CUT.format(platform="Slack")
        parts = [*parts[: MAX_PARTS - 1], parts[MAX_PARTS - 1][: MAX_TEXT - len(note)] + note]
    return parts


class _Progress:
    """One message in the thread that shows the latest progress line and then becomes the answer."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str | None):
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        self.ts: str | None = None

    def __call__(self, line: str) -> None:
        try:
            self.show(f"_{esc(line)}_")
        except SlackApiError as e:  # progress is a courtesy: never let it stop the work
            log.warning("slack_progress_failed", error=e.response.get("error"))

    def show(self, text: str) -> None:
        if self.ts is None:
            r = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text)
            self.ts = r["ts"]
        else:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text)

    def drop(self) -> None:
        if self.ts is not None:
            self.client.chat_delete(channel=self.channel, ts=self.ts)
            self.ts = None


def buttons_of(message: dict[str, Any]) -> set[str]:
    """The action ids of the buttons on a message, as Slack reports the message in the click's payload."""
    blocks = list(message.get("blocks") or [])
    for attachment in message.get("attachments") or []:
        blocks += attachment.get("blocks") or []
    return {e.get("value", "") for b in blocks if b.get("type") == "actions" for e in b.get("elements") or []}


class _CheckedSocketMode(SocketModeHandler):
    """Socket Mode with the same shape check as HTTP: a payload opsbot does not handle is acknowledged (so Slack
    does not send it again), logged in one line and dropped before bolt reads it."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        reason = problem(req.payload)
        if reason is None:
            super().handle(client, req)
            return
        log.warning("slack_payload_refused", reason=reason, transport="socket_mode", envelope=req.type)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


class SlackFrontend:
    def __init__(self, settings: SlackSettings, chat: Conversation, decisions: Decisions | None = None,
                 client: WebClient | None = None, seen: Seen | None = None, threads: Threads | None = None):
        if settings.bot_token is None:
            raise ValueError("slack.bot_token is not set")
        self.settings, self.chat = settings, chat
        self.decisions = decisions or Decisions()
        self.client = client or slack_client(settings.bot_token.get_secret_value(), settings.api_base_url)
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
        # process_before_response=False: bolt answers Slack as soon as ack() runs; the listener goes on in a thread
        self.app = App(client=self.client, signing_secret=secret, process_before_response=False,
                       raise_error_for_unhandled_request=False)
        # by default on the Redis (and key prefix) of the door's audit log: every replica shares it
        redis_client, prefix = chat.door.audit.client, chat.door.audit.key.removesuffix("audit")
        self._seen = seen or Seen(redis_client, prefix)
        self._threads = threads or Threads(redis_client, prefix)
        self.app.middleware(self._drop_bots_and_redeliveries)
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.command("/opsbot")(self._on_command)
        self.app.action(APPROVE_ID)(self._on_approve)
        self.app.action(DENY_ID)(self._on_deny)
        self.app.action(re.compile(f"^{CONTROL_PREFIX}"))(self._on_control)

    # -- serving -----------------------------------------------------------------------------------------

    def socket_mode(self) -> SocketModeHandler:
        """The Socket Mode handler (app token); `.start()` blocks, `.connect()` does not."""
        if self.settings.app_token is None:
            raise ValueError("slack.app_token (xapp-…) is needed for Socket Mode")
        return _CheckedSocketMode(self.app, self.settings.app_token.get_secret_value())

    def http_app(self) -> FastAPI:
        """HTTP events at POST /slack/events: 413 past the size bound, 401 when the signature does not match,
        400 with the reason for a shape opsbot does not handle; then bolt (which checks the signature again)."""
        if self.settings.signing_secret is None:
            raise ValueError("slack.signing_secret is needed to serve HTTP events")
        handler, secret = SlackRequestHandler(self.app), self.settings.signing_secret.get_secret_value()
        api = FastAPI(title="opsbot slack", docs_url=None, redoc_url=None, openapi_url=None)

        @api.get("/healthz")
        def healthz() -> dict[str, bool]:
            return {"ok": True}

        @api.post("/slack/events")
        async def events(request: Request) -> Response:
            try:  # bounded while it is read; signed; a shape opsbot handles: all before bolt parses it
                body = await read_body(request, MAX_BODY_BYTES)
                if ssl_check(body):
                    return Response(status_code=200)  # Slack checking the certificate of the command's URL
                if not signed(body, request.headers.get("x-slack-request-timestamp"),
                              request.headers.get("x-slack-signature"), secret):
                    raise WebhookError(401, "invalid_signature", messages.UNSIGNED)
                checked = from_http(body, request.headers.get("content-type", ""))
            except WebhookError as e:
                if e.status == 400:
                    log.warning("slack_payload_refused", reason=e.message, transport="http")
                return JSONResponse(error_body(e.code, e.message), status_code=e.status)
            if checked.answer_here:
                log.warning("slack_events_rate_limited", minute=checked.payload.get("minute_rate_limited"))
                return Response(status_code=200)

            async def replay() -> dict[str, Any]:  # bolt reads the body we already read, once more
                return {"type": "http.request", "body": body, "more_body": False}

            return await handler.handle(Request(request.scope, replay))

        return api

    # -- middleware --------------------------------------------------------------------------------------

    def _drop_bots_and_redeliveries(self, body: dict[str, Any], next: Callable[[], BoltResponse],
                                    req: BoltRequest) -> BoltResponse | None:
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype") in ("bot_message", "message_changed", "message_deleted"):
            return BoltResponse(status=200, body="")  # ours or another bot's: never answer a bot
        event_id = body.get("event_id")  # a string: checked with the payload's shape (slack_payloads)
        if event_id and not self._seen.first(event_id):
            log.info("slack_redelivery_ignored", event_id=event_id, retry=req.headers.get("x-slack-retry-num"))
            return BoltResponse(status=200, body="")
        return next()

    # -- listeners ---------------------------------------------------------------------------------------

    def _on_mention(self, ack: Callable[..., None], event: dict[str, Any]) -> None:
        ack()
        self._answer(event)

    def _on_message(self, ack: Callable[..., None], event: dict[str, Any], context: BoltContext) -> None:
        ack()
        if event.get("channel_type") == "im":
            if not event.get("subtype"):
                self._answer(event)
        elif self._replies_to_us(event, context.bot_user_id):
            self._answer(event)

    def _replies_to_us(self, event: dict[str, Any], bot_user: str | None) -> bool:
        """A person's plain reply in a thread opsbot started or answered in (a card's, or one of its answers').
        One that mentions opsbot also arrives as app_mention and is answered there, once; a channel message
        outside opsbot's threads is not for opsbot. `slack.thread_replies: false` turns this off."""
        thread_ts, channel = event.get("thread_ts"), event["channel"]
        if not self.settings.thread_replies or not thread_ts or thread_ts == event["ts"] \
                or event.get("subtype") not in (None, "thread_broadcast"):
            return False
        if bot_user is None or f"<@{bot_user}" in event.get("text", ""):
            return False
        store = self.decisions.store
        return self._threads.has(channel, thread_ts) or bool(
            store and store.incident_of(PLATFORM, channel, thread_ts))

    def _answer(self, event: dict[str, Any]) -> None:
        channel, user = event["channel"], event.get("user", "")
        thread_ts = event.get("thread_ts") or event["ts"]
        progress = _Progress(self.client, channel, thread_ts)
        try:
            store = self.decisions.store  # a reply in an alert card's thread is about its incident
            incident = store.incident_of(PLATFORM, channel, thread_ts) if store and event.get("thread_ts") else None
            reply = self.chat.ask(incoming(event.get("text", "")), f"slack:{channel}:{thread_ts}",
                                  identity(user), progress, incident)
            self._deliver(reply, progress, channel, user, thread_ts)
        except Exception:
            log.exception("slack_question_failed", channel=channel, user=user)
            self._say_failed(progress, channel, thread_ts)

    def _on_command(self, ack: Callable[..., None], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        channel, user, text = command["channel_id"], command["user_id"], command.get("text", "").strip()
        progress, reply = _Progress(self.client, channel, None), None
        try:
            reply = self.chat.command(text or "help", f"slack:{channel}", identity(user), progress)
            # a slash command is not shown to the channel: say who asked what above a public answer
            self._deliver(reply, progress, channel, user, None,
                          heading=messages.ASKED.format(user=user, text=esc(text)) + "\n")
        except SlackApiError as e:
            if reply is None or e.response.get("error") not in ("not_in_channel", "channel_not_found"):
                log.exception("slack_command_failed", channel=channel, user=user)
                return
            respond(text=messages.NOT_IN_CHANNEL.format(text=outgoing(reply.text)[0]), response_type="ephemeral")
        except Exception:
            log.exception("slack_command_failed", channel=channel, user=user)
            self._say_failed(progress, channel, None)

    def _on_approve(self, ack: Callable[..., None], body: dict[str, Any]) -> None:
        ack()
        self._click(body, approve=True)

    def _on_deny(self, ack: Callable[..., None], body: dict[str, Any]) -> None:
        ack()
        self._click(body, approve=False)

    def _on_control(self, ack: Callable[..., None], body: dict[str, Any]) -> None:
        """Acknowledge / Silence / Unsilence and the feedback marks: the silencer or the feedback desk edits the card
        everywhere; the clicker is told privately."""
        ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        message = body.get("message") or {}
        value = (body.get("actions") or [{}])[0].get("value", "")
        verb, _, incident_id = value.partition("|")
        try:
            if value not in buttons_of(message):
                text = NOT_THIS_CARD
            else:
                text = self.chat.control(verb, incident_id, identity(user)).text
            self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=message.get("thread_ts"),
                                           text=outgoing(text)[0])
        except Exception:
            log.exception("slack_control_failed", channel=channel, user=user, control=value)

    # -- helpers -----------------------------------------------------------------------------------------

    def _deliver(self, reply: Reply, progress: _Progress, channel: str, user: str, thread_ts: str | None,
                 heading: str = "") -> None:
        parts = outgoing(reply.text)
        if reply.private:
            progress.drop()
            for part in parts:
                self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=part)
        else:
            progress.show(heading + parts[0])
            for part in parts[1:]:  # the rest of a long reply, in order, in the same thread
                self.client.chat_postMessage(channel=channel, thread_ts=thread_ts or progress.ts, text=part)
            self._threads.add(channel, thread_ts or progress.ts)  # replies there are questions to opsbot
        if reply.card is not None:
            sent = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **render_slack(reply.card))
            self._threads.add(channel, thread_ts or sent["ts"])
            self.decisions.posted(reply.card, MessageRef(platform=PLATFORM, channel=sent["channel"],
                                                         message_id=sent["ts"]))

    def _say_failed(self, progress: _Progress, channel: str, thread_ts: str | None) -> None:
        try:
            progress.show(messages.FAILED)
        except Exception:
            log.exception("slack_failure_notice_failed", channel=channel)

    def _click(self, body: dict[str, Any], approve: bool) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        message = body.get("message") or {}
        ts = message.get("ts") or body["container"]["message_ts"]
        thread_ts = message.get("thread_ts")
        action_id = (body.get("actions") or [{}])[0].get("value", "")
        on_its_card = action_id in buttons_of(message)
        if not on_its_card:
            log.warning("slack_click_not_on_its_card", channel=channel, user=user, action=action_id, ts=ts)
        try:
            result = self.chat.click(action_id, identity(user), approve, on_its_card)
            if result.reply.private or result.updated is None:
                self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts,
                                               text=outgoing(result.reply.text)[0])
            if result.updated is not None:
                card, published = self.decisions.apply(result.updated, PLATFORM)
                if published is None or published.message_id != ts:
                    self.client.chat_update(channel=channel, ts=ts, **self._with_footer(
                        card, result.reply.text, user))
        except Exception:
            log.exception("slack_click_failed", channel=channel, user=user, action=action_id)
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=messages.FAILED)
            except Exception:
                log.exception("slack_failure_notice_failed", channel=channel)

    def _with_footer(self, card: Card, outcome: str, user: str) -> dict[str, Any]:
        body = render_slack(card)
        blocks = body["attachments"][0]["blocks"]
        line = footer(esc(outcome), f"<@{user}>", self.decisions.now())
        if len(blocks) < 50:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line[:3000]}]})
        return body
