"""The Slack payloads opsbot handles, checked before slack-bolt reads them.

A signed request of any other shape (bad JSON, an interaction type or event opsbot does not handle, a field of
the wrong type or missing where opsbot or bolt reads it) is refused with a reason in words: 400 over HTTP,
logged and dropped in Socket Mode. Bolt itself would raise on many of them (a `block_actions` whose action has
no `action_id`, `actions` as an object, a body of exactly `payload=`) and answer 500.

Handled: `url_verification`; `event_callback` of `app_mention` and `message` events (and Slack's
`app_rate_limited` notice); `block_actions` from a card's buttons (form-encoded `payload=` JSON); the `/opsbot`
slash command (form fields); Slack's `ssl_check`.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bot.cards.slack import APPROVE_ID, CONTROL_PREFIX, DENY_ID
from bot.http_input import WebhookError, parse_json, text_of

COMMAND = "/opsbot"
EVENTS = ("app_mention", "message")
MAX_CLOCK_SKEW_S = 300  # Slack's advice: refuse a timestamp more than five minutes away
NOT_HANDLED = "unhandled_payload"


@dataclass(frozen=True)
class Http:
    """What the HTTP endpoint does with a request that passed the checks: hand it to bolt, or answer it here."""

    payload: dict[str, Any]
    answer_here: bool = False  # Slack's app_rate_limited notice: a 200, and nothing for bolt to do


def refuse(reason: str) -> WebhookError:
    return WebhookError(400, NOT_HANDLED, reason)


def ssl_check(body: bytes) -> bool:
    """Slack checking the certificate of the slash command's URL (`ssl_check=1`, unsigned): answered 200 as is."""
    if b"ssl_check=1" not in body or body.lstrip().startswith(b"{"):
        return False
    fields = dict(parse_qsl(body.decode("utf-8", "replace")))
    return fields.get("ssl_check") == "1" and not {"payload", "command", "type"} & fields.keys()


def signed(body: bytes, timestamp: str | None, signature: str | None, secret: str) -> bool:
    """Slack's request signature (v0 = HMAC-SHA256 of 'v0:{timestamp}:{body}'), within five minutes of now."""
    if not timestamp or not timestamp.isdigit() or not signature:
        return False
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_S:
        return False
    mac = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, "sha256").hexdigest()
    return hmac.compare_digest(f"v0={mac}", signature)


def from_http(body: bytes, content_type: str) -> Http:
    """The payload of a signed HTTP request, read the way bolt will read it (JSON when the content type says so
    or the body starts with '{'; else form fields, whose `payload` field is JSON), and checked; else a 400."""
    text = text_of(body)
    if not text:
        raise refuse("the body is empty; Slack sends an event, an interaction or a slash command")
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        payload = _object(parse_json(body), "the body")
    else:
        fields = dict(parse_qsl(text, keep_blank_values=True))  # as bolt does: the last of repeated fields
        if "payload" in text:  # bolt then reads only the `payload` field, even of a slash command
            if "payload" not in fields:
                raise refuse("the form has no `payload` field (a slash command whose text holds the word "
                             "'payload' is read as one by slack-bolt: rephrase it)")
            if not fields["payload"].strip():
                raise refuse("the `payload` field is empty; an interaction's payload is a JSON object")
            try:
                value = parse_json(fields["payload"].encode())
            except WebhookError as e:
                raise refuse(f"the `payload` field: {e.message}") from None
            payload = _object(value, "the `payload` field")
        else:
            payload = fields
    reason = problem(payload)
    if reason:
        raise refuse(reason)
    return Http(payload, answer_here=payload.get("type") == "app_rate_limited")


def problem(payload: Any) -> str | None:
    """Why opsbot does not handle this payload (an Events API body, an interaction payload or a slash command's
    fields, over HTTP or Socket Mode), or None when it does."""
    if not isinstance(payload, dict):
        return "a Slack payload is a JSON object"
    try:
        _envelope(payload)
        if "command" in payload and "type" not in payload:
            _command(payload)
            return None
        kind = payload.get("type")
        if not isinstance(kind, str):
            return "`type` is missing or not a string (and it is not a slash command)"
        if kind == "url_verification":
            _string(payload, "challenge", "url_verification")
        elif kind == "event_callback":
            _event_callback(payload)
        elif kind == "block_actions":
            _block_actions(payload)
        elif kind != "app_rate_limited":
            return f"opsbot does not handle Slack payloads of type {kind[:40]!r}"
    except _Wrong as e:
        return str(e)
    return None


class _Wrong(Exception):
    pass


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise refuse(f"{what} is not a JSON object; Slack sends one object per event or interaction")
    return value


def _string(obj: dict[str, Any], key: str, where: str, required: bool = True) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value):
        raise _Wrong(f"`{key}` of the {where} must be a{' non-empty' if required else ''} string")


def _objects(value: Any, where: str, required: bool = False, empty: bool = True) -> list[dict[str, Any]]:
    """A list of objects; None counts as an empty list unless `required`; empty only if `empty`."""
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value) or (not empty and not value):
        raise _Wrong(f"{where} must be a {'' if empty else 'non-empty '}list of objects")
    return value


def _ids(obj: dict[str, Any], where: str) -> None:
    """The fields bolt reads ids from (`user`, `channel`, `team`, `enterprise`: a string, an object or null),
    and the objects it looks into for them (the first authorization, the message, the event …)."""
    for key in ("user", "channel", "team", "enterprise"):
        value = obj.get(key)
        if value is not None and not isinstance(value, str | dict):
            raise _Wrong(f"`{key}` of the {where} must be a string or an object")
        if isinstance(value, dict) and not isinstance(value.get("id"), str | None):
            raise _Wrong(f"`{key}.id` of the {where} must be a string")
    for key in ("team_id", "user_id", "channel_id", "enterprise_id", "thread_ts", "response_url"):
        if not isinstance(obj.get(key), str | None):
            raise _Wrong(f"`{key}` of the {where} must be a string")
    for auth in _objects(obj.get("authorizations"), f"`authorizations` of the {where}")[:1]:
        _ids(auth, f"{where}'s first authorization")
    for key in ("message", "previous_message", "item", "assistant_thread", "view", "event"):
        if key in obj and not isinstance(obj[key], dict):
            raise _Wrong(f"`{key}` of the {where} must be an object")
        if isinstance(obj.get(key), dict) and key != "event":
            _ids(obj[key], f"{where}'s {key}")


def _envelope(payload: dict[str, Any]) -> None:
    """What bolt reads of every payload before any listener: ids, authorizations, response URLs."""
    _ids(payload, "payload")
    if "response_urls" in payload:  # bolt takes its length when the key is there at all, null or not
        _objects(payload["response_urls"], "`response_urls`", required=True)
    if isinstance(payload.get("event"), dict):
        _ids(payload["event"], "event")


def _event_callback(payload: dict[str, Any]) -> None:
    _string(payload, "event_id", "event callback")
    event = payload.get("event")
    if not isinstance(event, dict):
        raise _Wrong("an event callback needs an `event` object")
    _string(event, "type", "event")
    if event["type"] not in EVENTS:
        raise _Wrong(f"opsbot does not subscribe to {event['type'][:40]!r} events")
    for key in ("channel", "ts"):
        _string(event, key, f"{event['type']} event")
    for key in ("user", "text", "thread_ts", "channel_type", "subtype", "bot_id"):
        _string(event, key, f"{event['type']} event", required=False)


def _block_actions(payload: dict[str, Any]) -> None:
    user = payload.get("user")
    if not isinstance(user, dict):
        raise _Wrong("`user` of a block_actions payload must be an object with an id")
    _string(user, "id", "block_actions user")
    for action in _objects(payload.get("actions"), "`actions` of a block_actions payload", True, empty=False):
        _string(action, "action_id", "action")
        if action["action_id"] not in (APPROVE_ID, DENY_ID) and not action["action_id"].startswith(CONTROL_PREFIX):
            raise _Wrong(f"opsbot has no button with action_id {action['action_id'][:40]!r}")
        for key in ("value", "block_id", "type"):
            _string(action, key, "action", required=False)
    container = payload.get("container")
    if container is not None and not isinstance(container, dict):
        raise _Wrong("`container` of a block_actions payload must be an object")
    container = container or {}
    channel = payload.get("channel")
    if channel is not None and not isinstance(channel, dict):
        raise _Wrong("`channel` of a block_actions payload must be an object")
    if not (channel or {}).get("id"):
        _string(container, "channel_id", "container (there is no channel)")
    message = payload.get("message") or {}
    _string(message, "ts", "message", required=False)
    if not message.get("ts"):
        _string(container, "message_ts", "container (the message has no ts)")
    _buttons(message)


def _buttons(message: dict[str, Any]) -> None:
    """The message's blocks, as opsbot reads its buttons: objects all the way down to the buttons' values."""
    blocks = _objects(message.get("blocks"), "`message.blocks`")
    for attachment in _objects(message.get("attachments"), "`message.attachments`"):
        blocks = blocks + _objects(attachment.get("blocks"), "an attachment's `blocks`")
    for block in blocks:
        for element in _objects(block.get("elements"), "a block's `elements`"):
            _string(element, "value", "button", required=False)


def _command(fields: dict[str, Any]) -> None:
    if fields.get("command") != COMMAND:
        raise _Wrong(f"opsbot answers only the {COMMAND} slash command")
    for key in ("user_id", "channel_id"):
        _string(fields, key, "slash command")
    _string(fields, "text", "slash command", required=False)
