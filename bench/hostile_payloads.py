"""Generated hostile request bodies, from a seeded random source, for every endpoint opsbot serves.

Shared by the hostile-input tests (hypothesis drives the random source) and bench/hostile_input.py (a seed).
Each body starts from a valid delivery of the endpoint and breaks it in one of the ways attackers and buggy
senders do: random bytes, truncation, deep nesting, huge or non-finite numbers, lone surrogates, invalid
UTF-8, type confusion in a field, random JSON of another shape, a body at or over the size limit. For Slack,
the signed payloads of shapes opsbot does not handle (SLACK_MUTATIONS): an action without `action_id`, `actions`
as an object, a body of exactly `payload=`, truncated JSON, fields of the wrong type, unhandled types.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from bot.cards.slack import APPROVE_ID

Mutation = Callable[[random.Random, bytes], bytes]
MAX_BODY = 1_000_000  # the default webhooks.max_body_bytes; tests pass their own


def random_json(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.choice([True, False])
    if kind == 2:
        return rnd.choice([0, -1, 2**31, 2**63, -(2**64), 10**30])
    if kind == 3:
        return rnd.choice([0.5, -1e308, 1e-320, 3.14])
    if kind == 4:
        return "".join(chr(rnd.choice([rnd.randrange(32, 127), rnd.randrange(0x80, 0xD7FF),
                                       rnd.randrange(0xE000, 0x10FFFF)])) for _ in range(rnd.randrange(12)))
    if kind == 5:
        return rnd.choice(["", " ", "firing", "resolved", "4", "0001-01-01T00:00:00Z", "<script>", "../../etc"])
    if kind in (6, 7):
        return [random_json(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(["status", "labels", "alerts", "data", "action", "version", "event_id", "update_id",
                        "message", "type", "x"]): random_json(rnd, depth + 1) for _ in range(rnd.randrange(5))}


def _replace_field(rnd: random.Random, valid: bytes) -> bytes:
    """Type confusion: one key anywhere in the valid body gets a random JSON value."""
    data = json.loads(valid)
    node, path = data, []
    while isinstance(node, (dict, list)) and node and rnd.random() < 0.7:
        key = rnd.choice(list(node)) if isinstance(node, dict) else rnd.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = random_json(rnd)
    else:
        data = random_json(rnd)
    return json.dumps(data, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")


def _lone_surrogate(rnd: random.Random, valid: bytes) -> bytes:
    at = valid.find(b'"', rnd.randrange(max(len(valid) - 1, 1)))
    at = at if at > 0 else valid.find(b'"')
    escape = rnd.choice([b"\\ud800", b"\\udfff", b"\\udc00x", b"\\ud83d"])
    return valid[: at + 1] + escape + valid[at + 1:]


MUTATIONS: dict[str, Mutation] = {
    "random bytes": lambda rnd, v: rnd.randbytes(rnd.randrange(0, 2048)),
    "truncated": lambda rnd, v: v[: rnd.randrange(len(v))],
    "deep arrays": lambda rnd, v: b"[" * rnd.randrange(33, 100_000),
    "deep objects": lambda rnd, v: b'{"a":' * rnd.randrange(33, 5_000) + b"1" + b"}" * rnd.randrange(0, 40),
    "huge integer": lambda rnd, v: v.replace(b'"4"', b"9" * rnd.randrange(41, 20_000), 1)
    if b'"4"' in v else b'{"n": ' + b"9" * rnd.randrange(41, 20_000) + b"}",
    "non-finite": lambda rnd, v: b'{"version": "4", "n": ' + rnd.choice([b"NaN", b"Infinity", b"-Infinity",
                                                                          b"1e999", b"-1e400"]) + b"}",
    "lone surrogate": _lone_surrogate,
    "invalid utf-8": lambda rnd, v: v[:10] + rnd.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]) + v[10:],
    "utf-16": lambda rnd, v: v.decode().encode("utf-16"),
    "type confusion": _replace_field,
    "other shape": lambda rnd, v: json.dumps(random_json(rnd)).encode(),
    "empty": lambda rnd, v: rnd.choice([b"", b" ", b"\n\t", b"null", b"[]", b"{}", b'""', b"0"]),
}


def hostile_body(rnd: random.Random, valid: bytes, limit: int = MAX_BODY) -> tuple[str, bytes]:
    """One hostile body made from `valid`, and the name of the mutation; "oversized" passes `limit`."""
    kind = rnd.choice([*sorted(MUTATIONS), "oversized"])
    if kind == "oversized":
        return kind, b'{"pad": "' + b"x" * (limit + rnd.randrange(1, 1000)) + b'"}'
    return kind, MUTATIONS[kind](rnd, valid)


# -- Slack: signed payloads of shapes opsbot does not handle -------------------------------------------------

FORM, JSON = "application/x-www-form-urlencoded", "application/json"


def slack_click(action_id: str = APPROVE_ID, value: str = "a1b2c3", ts: str = "1700000000.000100") -> dict[str, Any]:
    """A valid block_actions payload: a click on a card's button (channel C0ONCALL, message `ts`)."""
    return {"type": "block_actions", "team": {"id": "T0SHOP"}, "user": {"id": "U0LEAD"}, "api_app_id": "A0OPSBOT",
            "channel": {"id": "C0ONCALL"}, "trigger_id": "1.2.3", "response_url": "https://hooks.slack.test/x",
            "container": {"type": "message", "message_ts": ts, "channel_id": "C0ONCALL"},
            "message": {"ts": ts, "type": "message", "text": "card", "attachments": [{"blocks": [
                {"type": "actions", "block_id": f"act:{value}", "elements": [
                    {"type": "button", "action_id": action_id, "value": value}]}]}]},
            "actions": [{"type": "button", "action_id": action_id, "block_id": f"act:{value}", "value": value,
                         "action_ts": "1"}]}


def slack_event(event: dict[str, Any], event_id: str = "Ev0001") -> dict[str, Any]:
    """A valid event_callback around `event`."""
    return {"token": "legacy", "team_id": "T0SHOP", "api_app_id": "A0OPSBOT", "type": "event_callback",
            "event_id": event_id, "event_time": 1700000000, "event": event,
            "authorizations": [{"team_id": "T0SHOP", "user_id": "U0OPSBOT", "is_bot": True}]}


def slack_mention(text: str = "help", ts: str = "1700000000.000001", event_id: str = "Ev0001") -> dict[str, Any]:
    return slack_event({"type": "app_mention", "user": "U0VIEWER", "text": f"<@U0OPSBOT> {text}",
                        "channel": "C0ONCALL", "ts": ts}, event_id)


def as_form(payload: Any) -> bytes:
    return b"payload=" + quote(json.dumps(payload)).encode()


def _click(change: Callable[[dict[str, Any]], Any]) -> Callable[[random.Random], tuple[str, bytes]]:
    def make(rnd: random.Random) -> tuple[str, bytes]:
        payload = slack_click()
        change(payload)
        return FORM, as_form(payload)
    return make


def _event(change: Callable[[dict[str, Any]], Any]) -> Callable[[random.Random], tuple[str, bytes]]:
    def make(rnd: random.Random) -> tuple[str, bytes]:
        body = slack_mention()
        change(body)
        return JSON, json.dumps(body).encode()
    return make


def _truncated_payload(rnd: random.Random) -> tuple[str, bytes]:
    text = json.dumps(slack_click())
    return FORM, b"payload=" + quote(text[: rnd.randrange(1, len(text) - 1)]).encode()


def _truncated_event(rnd: random.Random) -> tuple[str, bytes]:
    text = json.dumps(slack_mention())
    return JSON, text[: rnd.randrange(1, len(text) - 1)].encode()


def _command(**fields: str) -> Callable[[random.Random], tuple[str, bytes]]:
    base = {"team_id": "T0SHOP", "channel_id": "C0ONCALL", "user_id": "U0VIEWER", "command": "/opsbot",
            "text": "help", "response_url": "https://hooks.slack.test/x", "trigger_id": "1.2.3"}
    form = {k: v for k, v in {**base, **fields}.items() if v != "-"}  # "-": the field is left out
    return lambda rnd: (FORM, urlencode(form).encode())


# each: (content type, body), signed by the caller; the name says what is wrong with it
SLACK_MUTATIONS: dict[str, Callable[[random.Random], tuple[str, bytes]]] = {
    "action without action_id": _click(lambda p: p["actions"][0].pop("action_id")),
    "actions as an object": _click(lambda p: p.update(actions=p["actions"][0])),
    "actions empty": _click(lambda p: p.update(actions=[])),
    "action_id not a string": _click(lambda p: p["actions"][0].update(action_id=[APPROVE_ID])),
    "action_id of no opsbot button": _click(lambda p: p["actions"][0].update(action_id="deploy_now")),
    "action value not a string": _click(lambda p: p["actions"][0].update(value={"id": 1})),
    "payload= empty": lambda rnd: (FORM, b"payload="),
    "payload truncated": _truncated_payload,
    "payload a list": lambda rnd: (FORM, as_form([slack_click()])),
    "payload type not a string": _click(lambda p: p.update(type=7)),
    "payload type not handled": _click(lambda p: p.update(type="view_submission")),
    "user without id": _click(lambda p: p.update(user={"name": "lead"})),
    "user a number": _click(lambda p: p.update(user=42)),
    "channel a list": _click(lambda p: p.update(channel=["C0ONCALL"])),
    "container a string, no channel": _click(lambda p: (p.pop("channel"), p.update(container="C0ONCALL"))),
    "message a string": _click(lambda p: p.update(message="card")),
    "message blocks an object": _click(lambda p: p["message"].update(blocks={"type": "actions"})),
    "button value an object": _click(
        lambda p: p["message"]["attachments"][0]["blocks"][0]["elements"][0].update(value={"v": 1})),
    "authorizations an object": _click(lambda p: p.update(authorizations={"team_id": "T0SHOP"})),
    "response_urls a string": _click(lambda p: p.update(response_urls="https://hooks.slack.test/x")),
    "response_urls null": _click(lambda p: p.update(response_urls=None)),
    "event body truncated": _truncated_event,
    "event body a list": lambda rnd: (JSON, json.dumps([slack_mention()]).encode()),
    "event missing": _event(lambda b: b.pop("event")),
    "event a list": _event(lambda b: b.update(event=[b["event"]])),
    "event type not handled": _event(lambda b: b["event"].update(type="reaction_added")),
    "event without channel": _event(lambda b: b["event"].pop("channel")),
    "event text an object": _event(lambda b: b["event"].update(text={"t": "help"})),
    "event_id a list": _event(lambda b: b.update(event_id=["Ev1", "Ev2"])),
    "team a number": _event(lambda b: b.update(team=5)),
    "event's authorizations a number": _event(
        lambda b: (b.pop("authorizations"), b["event"].update(authorizations=-1))),  # bolt looks there too
    "url_verification without challenge": lambda rnd: (JSON, b'{"type": "url_verification"}'),
    "form of unknown fields": lambda rnd: (FORM, b"foo=bar&baz="),
    "slash command of another name": _command(command="/deploy"),
    "slash command without user_id": _command(user_id="-"),
}


def slack_hostile(rnd: random.Random) -> tuple[str, str, bytes]:
    """One signed-but-unhandled Slack request: the mutation's name, its content type and its body."""
    kind = rnd.choice(sorted(SLACK_MUTATIONS))
    return (kind, *SLACK_MUTATIONS[kind](rnd))
