"""Slack's side of the conversation for tests: signed events, slash commands and button clicks to opsbot's
HTTP endpoint, and reading what opsbot posted to the fake Web API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.cards.slack import APPROVE_ID, CONTROL_PREFIX, DENY_ID
from tests.support.fake_slack import BOT_ID, BOT_USER, TEAM, Call, FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0ONCALL"


@dataclass
class Workspace:
    """Plays Slack's side: signs and posts events, slash commands and button clicks to the bot's endpoint."""

    url: str
    fake: FakeSlack
    secret: str = SECRET
    seq: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def _post(self, body: str, content_type: str, secret: str | None = None) -> httpx.Response:
        ts = str(int(time.time()))
        sig = SignatureVerifier(secret or self.secret).generate_signature(timestamp=ts, body=body)
        return httpx.post(f"{self.url}/slack/events", content=body, timeout=10, headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})

    def post_raw(self, body: bytes, content_type: str) -> httpx.Response:
        """Any bytes, validly signed the way Slack signs (v0=HMAC-SHA256 of 'v0:{ts}:' + the raw body)."""
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(self.secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        return httpx.post(f"{self.url}/slack/events", content=body, timeout=10, headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})

    def event(self, event: dict[str, Any], secret: str | None = None) -> httpx.Response:
        self.seq += 1
        body = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0OPSBOT", "type": "event_callback",
                "event_id": f"Ev{self.seq:08d}", "event_time": int(time.time()), "event": event,
                "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]}
        return self._post(json.dumps(body), "application/json", secret)

    def mention(self, user: str, text: str, thread_ts: str | None = None) -> httpx.Response:
        self.seq += 1
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "channel": CHANNEL,
                 "ts": f"1700000000.{self.seq:06d}", **({"thread_ts": thread_ts} if thread_ts else {})}
        return self.event(event)

    def slash(self, user: str, text: str) -> httpx.Response:
        form = {"token": "legacy", "team_id": TEAM, "channel_id": CHANNEL, "user_id": user, "command": "/opsbot",
                "text": text, "response_url": f"{self.url}/nowhere", "trigger_id": "1.2.3"}
        return self._post(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, user: str, card_ts: str, action_id: str, approve: bool = True) -> httpx.Response:
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
                   "api_app_id": "A0OPSBOT", "channel": {"id": CHANNEL}, "trigger_id": "1.2.3",
                   "container": {"type": "message", "message_ts": card_ts, "channel_id": CHANNEL},
                   "message": self.reported(card_ts),
                   "response_url": f"{self.url}/nowhere",
                   "actions": [{"type": "button", "action_id": APPROVE_ID if approve else DENY_ID,
                                "block_id": f"act:{action_id}", "value": action_id, "action_ts": "1"}]}
        return self._post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def control(self, user: str, card_ts: str, value: str) -> httpx.Response:
        """A click on an on-call button (Acknowledge, Silence …) of the card at `card_ts`; value 'verb|incident'."""
        verb, _, incident = value.partition("|")
        payload = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
                   "api_app_id": "A0OPSBOT", "channel": {"id": CHANNEL}, "trigger_id": "1.2.3",
                   "container": {"type": "message", "message_ts": card_ts, "channel_id": CHANNEL},
                   "message": self.reported(card_ts), "response_url": f"{self.url}/nowhere",
                   "actions": [{"type": "button", "action_id": CONTROL_PREFIX + verb.replace(":", "_"),
                                "block_id": f"ctl:{incident}", "value": value, "action_ts": "1"}]}
        return self._post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    def reported(self, ts: str) -> dict[str, Any]:
        """The message as Slack reports it in an interaction payload: what the bot posted, as Slack keeps it."""
        stored = self.fake.message(CHANNEL, ts)
        return {"ts": ts, "type": "message", "bot_id": BOT_ID,
                **{k: stored[k] for k in ("text", "blocks", "attachments", "thread_ts") if stored.get(k)}}

    def next(self, method: str, **match: Any) -> dict[str, Any]:
        """Wait for the next successful call of `method` after the ones already seen; its arguments."""
        return self.next_call(method, **match).args

    def next_call(self, method: str, **match: Any) -> Call:
        key = method + repr(sorted(match.items()))
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.fake.wait_for(method, self.counts[key], **match)[-1]

    def next_card(self) -> tuple[str, dict[str, Any]]:
        """The next card posted in the channel: its ts and body (progress and answers are skipped)."""
        while True:
            call = self.next_call("chat.postMessage", channel=CHANNEL)
            if "attachments" in call.args:
                return call.result["ts"], call.args


def card_text(message: dict[str, Any]) -> str:
    blocks = message["attachments"][0]["blocks"]
    return "\n".join(str(b.get("text", {}).get("text", "")) + " ".join(e.get("text", "") for e in b.get(
        "elements", []) if isinstance(e.get("text"), str)) for b in blocks)


def buttons(message: dict[str, Any]) -> list[str]:
    return [e["value"] for b in message["attachments"][0]["blocks"] if b["type"] == "actions" for e in b["elements"]]
