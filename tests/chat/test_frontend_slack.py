"""Slack: signed requests into the real Bolt app over HTTP, a fake Web API that checks what Slack checks."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
import structlog.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bench.hostile_payloads import SLACK_MUTATIONS, hostile_body, slack_click
from bot import messages
from bot.cards.store import CardStore, MessageRef
from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends import messages as fm
from bot.chat.frontends.slack import SlackFrontend
from bot.settings import Settings, SlackSettings
from tests.support.chatkit import conversation, executions, replicas, served
from tests.support.doors import Clock
from tests.support.fake_slack import BOT_ID, BOT_USER, TEAM, FakeSlack
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace, buttons, card_text


@pytest.fixture
def fake(slack_fake: FakeSlack) -> FakeSlack:
    return slack_fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def chat(mutable_settings: Settings, clock: Clock) -> Conversation:
    return conversation(mutable_settings, clock)


@pytest.fixture
def frontend(fake: FakeSlack, chat: Conversation) -> SlackFrontend:
    settings = SlackSettings(bot_token=SecretStr(fake.token), signing_secret=SecretStr(SECRET),
                             app_token=SecretStr("xapp-1-test"), api_base_url=fake.base_url)  # type: ignore[attr-defined]
    return SlackFrontend(settings, chat)


@pytest.fixture
def slack(frontend: SlackFrontend, fake: FakeSlack) -> Iterator[Workspace]:
    with served(frontend.http_app()) as server:
        yield Workspace(server.url, fake)


# -- HTTP plumbing ---------------------------------------------------------------------------------------------

def test_url_verification_and_bad_signature(slack: Workspace) -> None:
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    ok = slack._post(body, "application/json")
    assert ok.status_code == 200 and ok.json()["challenge"].startswith("3eZbrw")
    assert slack._post(body, "application/json", secret="not-the-secret").status_code == 401
    assert slack.mention("U0VIEWER", "help").status_code == 200
    forged = slack.event({"type": "app_mention", "user": "U0ADMIN", "text": "restart checkout", "channel": CHANNEL,
                          "ts": "1.2"}, secret="not-the-secret")
    assert forged.status_code == 401


def test_hostile_signed_bodies_get_4xx_and_no_docs_are_served(slack: Workspace) -> None:
    assert slack._post("{", "application/json").status_code == 400
    assert slack._post("payload=%7B", "application/x-www-form-urlencoded").status_code == 400
    huge = httpx.post(f"{slack.url}/slack/events", content=b"x" * 2_000_000,
                      headers={"Content-Type": "application/json"})  # unsigned: refused while it is read
    assert huge.status_code == 413
    listed = slack.event({"type": "app_mention", "user": "U0VIEWER", "text": "help", "channel": CHANNEL,
                          "ts": "1.3"})
    assert listed.status_code == 200
    body = json.dumps({"token": "legacy", "team_id": "T0", "type": "event_callback", "event_id": ["a", "b"],
                       "event": {"type": "app_mention", "user": "U0VIEWER", "text": "help", "channel": CHANNEL}})
    assert slack._post(body, "application/json").status_code == 400
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx.get(f"{slack.url}{path}").status_code == 404


@given(st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # one server serves every example
def test_generated_hostile_bodies_get_a_4xx_never_a_5xx(slack: Workspace, rnd: random.Random) -> None:
    valid = json.dumps({"token": "legacy", "team_id": "T0", "type": "event_callback", "event_id": "Ev1",
                        "event": {"type": "app_mention", "user": "U0VIEWER", "text": "help", "channel": CHANNEL}})
    kind, body = hostile_body(rnd, valid.encode())
    as_json = slack.post_raw(body, "application/json")
    assert as_json.status_code < 500, f"json {kind}: {as_json.status_code}"
    form = slack.post_raw(b"payload=" + quote_from_bytes(body).encode(), "application/x-www-form-urlencoded")
    assert form.status_code < 500, f"form {kind}: {form.status_code}"
    kind, body = hostile_body(rnd, json.dumps(slack_click()).encode())  # a card's click, broken
    click = slack.post_raw(b"payload=" + quote_from_bytes(body).encode(), "application/x-www-form-urlencoded")
    assert click.status_code < 500, f"click {kind}: {click.status_code}"


# what opsbot answers each signed-but-unhandled payload of the hostile generator (a part of the reason)
REFUSED = {
    "action without action_id": "`action_id` of the action must be a non-empty string",
    "actions as an object": "`actions` of a block_actions payload must be a non-empty list of objects",
    "actions empty": "`actions` of a block_actions payload must be a non-empty list of objects",
    "action_id not a string": "`action_id` of the action must be a non-empty string",
    "action_id of no opsbot button": "opsbot has no button with action_id 'deploy_now'",
    "action value not a string": "`value` of the action must be a string",
    "payload= empty": "the `payload` field is empty",
    "payload truncated": "the `payload` field: the body is not valid JSON",
    "payload a list": "the `payload` field is not a JSON object",
    "payload type not a string": "`type` is missing or not a string",
    "payload type not handled": "opsbot does not handle Slack payloads of type 'view_submission'",
    "user without id": "`id` of the block_actions user must be a non-empty string",
    "user a number": "`user` of the payload must be a string or an object",
    "channel a list": "`channel` of the payload must be a string or an object",
    "container a string, no channel": "`container` of a block_actions payload must be an object",
    "message a string": "`message` of the payload must be an object",
    "message blocks an object": "`message.blocks` must be a list of objects",
    "button value an object": "`value` of the button must be a string",
    "authorizations an object": "`authorizations` of the payload must be a list of objects",
    "response_urls a string": "`response_urls` must be a list of objects",
    "response_urls null": "`response_urls` must be a list of objects",
    "event's authorizations a number": "`authorizations` of the event must be a list of objects",
    "event body truncated": "the body is not valid JSON",
    "event body a list": "the body is not a JSON object",
    "event missing": "an event callback needs an `event` object",
    "event a list": "`event` of the payload must be an object",
    "event type not handled": "opsbot does not subscribe to 'reaction_added' events",
    "event without channel": "`channel` of the app_mention event must be a non-empty string",
    "event text an object": "`text` of the app_mention event must be a string",
    "event_id a list": "`event_id` of the event callback must be a non-empty string",
    "team a number": "`team` of the payload must be a string or an object",
    "url_verification without challenge": "`challenge` of the url_verification must be a non-empty string",
    "form of unknown fields": "`type` is missing or not a string (and it is not a slash command)",
    "slash command of another name": "opsbot answers only the /opsbot slash command",
    "slash command without user_id": "`user_id` of the slash command must be a non-empty string",
}


def test_signed_payloads_of_unhandled_shapes_get_400_with_a_reason(slack: Workspace, fake: FakeSlack,
                                                                    chat: Conversation) -> None:
    assert set(REFUSED) == set(SLACK_MUTATIONS), "every mutation of the generator has its reason here"
    rnd = random.Random(1)
    with structlog.testing.capture_logs() as logs:
        for kind, make in SLACK_MUTATIONS.items():
            content_type, body = make(rnd)
            r = slack.post_raw(body, content_type)
            assert r.status_code == 400, (kind, r.status_code, r.text)
            assert REFUSED[kind] in r.json()["message"], (kind, r.json())
    refused = [e for e in logs if e["event"] == "slack_payload_refused"]
    assert len(refused) == len(SLACK_MUTATIONS), "one log line per refused request"
    assert not [e for e in logs if e.get("exc_info") or e["log_level"] in ("error", "critical")], "no trace"
    assert not [c for c in fake.calls if c.method != "auth.test"], "nothing was done for any of them"
    unsigned = httpx.post(f"{slack.url}/slack/events", content=b"payload=", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": "soon",
        "X-Slack-Signature": "v0=0"})
    assert unsigned.status_code == 401 and unsigned.json()["message"] == fm.UNSIGNED
    ssl = httpx.post(f"{slack.url}/slack/events", content=b"ssl_check=1&token=legacy",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert ssl.status_code == 200, "Slack's certificate check of the command URL"
    slack.mention("U0OPERATOR", "scale checkout to 6")  # and a normal click still works
    card_ts, card = slack.next_card()
    [action] = set(buttons(card))
    assert slack.click("U0LEAD", card_ts, action).status_code == 200
    slack.next("chat.update", ts=card_ts)
    assert "executed" in card_text(fake.message(CHANNEL, card_ts)) and executions(chat.door) == ["success"]


def test_mention_answers_in_the_thread_with_progress(slack: Workspace, fake: FakeSlack) -> None:
    assert slack.mention("U0VIEWER", "pods shop", thread_ts="1700000000.000001").status_code == 200
    first = slack.next("chat.postMessage")
    assert first["thread_ts"] == "1700000000.000001" and first["text"] == "_checking pods…_"
    final = slack.next("chat.update")
    assert "CrashLoopBackOff" in final["text"] and final["ts"] == fake.made("chat.postMessage")[0].result["ts"]
    assert len(fake.made("chat.postMessage")) == 1, "progress and answer are one edited message"


def test_bot_messages_and_redeliveries_are_ignored(slack: Workspace, fake: FakeSlack) -> None:
    own = {"type": "message", "channel": "D0DM", "channel_type": "im", "user": BOT_USER, "bot_id": BOT_ID,
           "text": "scale checkout to 6", "ts": "1700000001.000001"}
    assert slack.event(own).status_code == 200
    dm = {"type": "message", "channel": "D0DM", "channel_type": "im", "user": "U0VIEWER", "text": "help",
          "ts": "1700000002.000001"}
    slack.event(dm)
    slack.seq -= 1  # the same event id again: Slack redelivering
    slack.event(dm)
    slack.next("chat.postEphemeral")  # help is private
    slack.mention("U0VIEWER", "policy whatcan")  # a later event is answered, so the two above were handled
    slack.next("chat.postEphemeral")
    assert len(fake.made("chat.postEphemeral")) == 2 and not fake.made("chat.postMessage")


def test_slash_command_private_and_public(slack: Workspace, fake: FakeSlack) -> None:
    r = slack.slash("U0VIEWER", "help")
    assert r.status_code == 200 and r.text == "", "acknowledged at once, empty"
    help_ = slack.next("chat.postEphemeral")
    assert help_["user"] == "U0VIEWER" and help_["text"].startswith("I am opsbot")
    slack.slash("U0OPERATOR", "scale shop/checkout 5")
    _, card = slack.next_card()
    assert "scale shop/checkout from 3 to 5 replicas" in card["text"] + card_text(card)
    answer = [c.args for c in fake.made("chat.update")] + [c.args for c in fake.made("chat.postMessage")]
    assert any("<@U0OPERATOR> asked `/opsbot scale shop/checkout 5`" in a.get("text", "") for a in answer)


def test_a_failure_is_a_sentence_not_a_trace(fake: FakeSlack, mutable_settings: Settings) -> None:
    broken = conversation(mutable_settings, Clock())
    broken.door.gate.store.client = None  # type: ignore[assignment]  # Redis client gone: every call raises
    settings = SlackSettings(bot_token=SecretStr(fake.token), signing_secret=SecretStr(SECRET),
                             api_base_url=fake.base_url)  # type: ignore[attr-defined]
    with served(SlackFrontend(settings, broken).http_app()) as server:
        ws = Workspace(server.url, fake)
        ws.mention("U0LEAD", "status")  # checks alerts (progress), then reads the pending actions: fails
        fake.wait_for("chat.update", text=fm.FAILED)
    texts = [c.args.get("text", "") for c in fake.calls if c.method.startswith("chat.")]
    assert texts == ["_checking alerts…_", fm.FAILED], "one message: the progress, then the sentence"


def test_socket_mode_envelope_runs_the_same_listeners(frontend: SlackFrontend, fake: FakeSlack) -> None:
    """A Socket Mode envelope (as Slack sends it over the websocket) goes through the handler bolt builds."""
    handler = frontend.socket_mode()
    sent: list[Any] = []

    class Socket:  # the websocket side of slack_sdk's client: records what would go back to Slack
        logger = handler.client.logger

        def send_socket_mode_response(self, response: Any) -> None:
            sent.append(response)

    envelope = SocketModeRequest.from_dict({
        "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf", "type": "events_api", "accepts_response_payload": False,
        "payload": {"team_id": TEAM, "api_app_id": "A0OPSBOT", "type": "event_callback", "event_id": "EvSOCKET1",
                    "event": {"type": "app_mention", "user": "U0VIEWER", "text": f"<@{BOT_USER}> policy whatcan",
                              "channel": CHANNEL, "ts": "1700000009.000001"}}})
    assert envelope is not None
    handler.handle(Socket(), envelope)  # type: ignore[arg-type]  # what the socket's listener thread calls
    assert [r.envelope_id for r in sent] == ["57d6a792-4d35-4d0b-b6aa-3361493e1caf"], "acknowledged by envelope id"
    reply = fake.wait_for("chat.postEphemeral")[0].args
    assert reply["user"] == "U0VIEWER" and reply["text"].startswith("slack:U0VIEWER: roles viewer")
    assert handler.app is frontend.app and isinstance(handler.client.web_client, WebClient)


def test_socket_mode_drops_an_unhandled_payload_after_acknowledging_it(frontend: SlackFrontend,
                                                                       fake: FakeSlack) -> None:
    handler = frontend.socket_mode()
    sent: list[Any] = []

    class Socket:
        logger = handler.client.logger

        def send_socket_mode_response(self, response: Any) -> None:
            sent.append(response)

    broken = slack_click()
    broken["actions"][0].pop("action_id")  # bolt's matcher reads it: a KeyError in the socket's thread
    with structlog.testing.capture_logs() as logs:
        for n, payload in enumerate([broken, {**slack_click(), "actions": {"action_id": "opsbot_approve"}}]):
            envelope = SocketModeRequest.from_dict({"envelope_id": f"env-{n}", "type": "interactive",
                                                    "accepts_response_payload": False, "payload": payload})
            assert envelope is not None
            handler.handle(Socket(), envelope)  # type: ignore[arg-type]
    assert [r.envelope_id for r in sent] == ["env-0", "env-1"], "acknowledged, so Slack does not send it again"
    assert [e["reason"] for e in logs if e["event"] == "slack_payload_refused"] == [
        "`action_id` of the action must be a non-empty string",
        "`actions` of a block_actions payload must be a non-empty list of objects"]
    assert not [c for c in fake.calls if c.method != "auth.test"]


def test_plain_replies_in_opsbots_threads_are_answered_once(fake: FakeSlack, chat: Conversation) -> None:
    """Slack sends every channel message (message.channels): opsbot answers only a person's reply in a thread it
    started or answered in, and a reply that mentions it (app_mention and message both arrive) once."""
    store = CardStore(chat.door.audit.client, f"test:{uuid.uuid4().hex}:")
    card_ts = "1700000050.000001"  # an alert card the Publisher posted: the store remembers its message
    store.set_ref("inc-9", MessageRef(platform="slack", message_id=card_ts, channel=CHANNEL))
    settings = SlackSettings(bot_token=SecretStr(fake.token), signing_secret=SecretStr(SECRET),
                             api_base_url=fake.base_url)  # type: ignore[attr-defined]
    with served(SlackFrontend(settings, chat, Decisions(store)).http_app()) as server:
        slack = Workspace(server.url, fake)

        def says(text: str, thread_ts: str | None = None, kind: str = "message", **extra: Any) -> None:
            slack.seq += 1
            slack.event({"type": kind, "channel": CHANNEL, "user": "U0VIEWER", "text": text, "team": TEAM,
                         "ts": f"1700000100.{slack.seq:06d}", **({"thread_ts": thread_ts} if thread_ts else {}),
                         **({"channel_type": "channel"} if kind == "message" else {}), **extra})

        slack.mention("U0VIEWER", "pods shop")  # opsbot answers in the mention's thread: that thread is its own
        thread = slack.next("chat.postMessage")["thread_ts"]
        slack.next("chat.update")
        says("pods shop")  # an ordinary channel message
        says("pods shop", thread_ts="1699999999.000001")  # a thread opsbot is not in
        says("pods shop", thread_ts=thread, bot_id="B0OTHER", subtype="bot_message")  # another bot, in the thread
        says("pods shop", thread_ts=thread)  # a plain reply in opsbot's thread: answered there
        answer = slack.next("chat.postMessage")
        assert answer["thread_ts"] == thread and answer["text"] == "_checking pods…_"
        slack.next("chat.update")

        says("help", thread_ts=card_ts)  # a plain reply under the alert card
        helped = slack.next("chat.postEphemeral")
        assert helped["thread_ts"] == card_ts and helped["user"] == "U0VIEWER"

        for kind in ("app_mention", "message"):  # Slack sends a mention in the thread as both events
            says(f"<@{BOT_USER}> pods shop", thread_ts=thread, kind=kind, ts="1700000200.000001")
        slack.mention("U0VIEWER", "help")  # by its answer, everything above is through
        slack.next("chat.postEphemeral")
    in_thread = [c for c in fake.made("chat.postMessage") if c.args.get("thread_ts") == thread]
    assert len(in_thread) == 3, "the first answer, the plain reply's and the mention's: once each"
    assert len(fake.made("chat.postMessage")) == 3 and len(fake.made("chat.postEphemeral")) == 2, "nothing else"



def test_a_team_that_wants_only_mentions_turns_thread_replies_off(fake: FakeSlack, chat: Conversation) -> None:
    """slack.thread_replies: false: people talking to each other in opsbot's thread are left alone."""
    settings = SlackSettings(bot_token=SecretStr(fake.token), signing_secret=SecretStr(SECRET),
                             api_base_url=fake.base_url, thread_replies=False)  # type: ignore[attr-defined]
    with served(SlackFrontend(settings, chat, Decisions(None)).http_app()) as server:
        slack = Workspace(server.url, fake)
        slack.mention("U0VIEWER", "pods shop")
        thread = slack.next("chat.postMessage")["thread_ts"]
        slack.next("chat.update")
        slack.seq += 1
        slack.event({"type": "message", "channel": CHANNEL, "user": "U0VIEWER", "text": "pods shop", "team": TEAM,
                     "ts": f"1700000300.{slack.seq:06d}", "thread_ts": thread, "channel_type": "channel"})
        slack.mention("U0VIEWER", "help")  # by its answer, the reply above is through
        slack.next("chat.postEphemeral")
    assert len(fake.made("chat.postMessage")) == 1, "only the mention was answered, not the plain reply"

# -- the shift, as a table --------------------------------------------------------------------------------------

SHIFT = [
    # who           does                            what Slack shows afterwards
    ("U0OPERATOR", "@opsbot scale checkout to 6", "card: scale shop/checkout from 3 to 6 replicas — waiting for approval"),
    ("U0VIEWER", "clicks Approve", "only to U0VIEWER: may not approve"),
    ("U0OPERATOR", "clicks Approve", "only to U0OPERATOR: may not approve their own action"),
    ("U0LEAD", "clicks Approve", "card for everyone: executed; decided by slack:U0LEAD"),
    ("U0LEAD", "clicks Approve", "only to U0LEAD: has already approved this action"),
    ("U0ADMIN", "clicks Deny", "only to U0ADMIN: was already executed"),
]


def test_shift_scale_checkout(slack: Workspace, fake: FakeSlack, chat: Conversation) -> None:
    card_ts, action = "", ""
    for who, does, shows in SHIFT:
        if does.startswith("@opsbot"):
            slack.mention(who, does.removeprefix("@opsbot "))
            card_ts, card = slack.next_card()
            [action] = set(buttons(card))
            assert shows.removeprefix("card: ") in card_text(card)
            continue
        edits_before = len(fake.made("chat.update"))
        card_before = json.dumps(fake.message(CHANNEL, card_ts)["attachments"])
        assert slack.click(who, card_ts, action, approve=does == "clicks Approve").status_code == 200
        if shows.startswith("only to"):
            note = slack.next("chat.postEphemeral", user=who)
            assert shows.split(": ", 1)[1] in note["text"], (who, note["text"])
            assert json.dumps(fake.message(CHANNEL, card_ts)["attachments"]) == card_before, "card unchanged"
            assert len(fake.made("chat.update")) == edits_before
        else:
            slack.next("chat.update", ts=card_ts)
            now = fake.message(CHANNEL, card_ts)
            text = card_text(now)
            for part in shows.removeprefix("card for everyone: ").split("; "):
                assert part in text, text
            assert "<@U0LEAD>" in text and "UTC" in text, "who decided and when"
            assert buttons(now) == [], "a decided card has no buttons"
    assert replicas(chat.door) == 6
    assert executions(chat.door) == ["success"], "executed exactly once"


def test_a_click_acts_only_on_its_own_card(slack: Workspace, fake: FakeSlack, chat: Conversation) -> None:
    slack.mention("U0OPERATOR", "scale checkout to 6")
    a_ts, a = slack.next_card()
    slack.mention("U0OPERATOR", "restart checkout")
    b_ts, b = slack.next_card()
    [a_action], [b_action] = set(buttons(a)), set(buttons(b))
    before = json.dumps(fake.message(CHANNEL, a_ts)["attachments"])
    assert slack.click("U0LEAD", a_ts, b_action).status_code == 200  # B's id on A's message
    note = slack.next("chat.postEphemeral", user="U0LEAD")
    assert note["text"] == messages.NOT_THIS_CARD
    assert json.dumps(fake.message(CHANNEL, a_ts)["attachments"]) == before, "card A unchanged"
    assert not [c for c in fake.made("chat.update") if c.args["ts"] == a_ts] and executions(chat.door) == []
    assert chat.door.gate.store.get(b_action).state == "pending" and chat.door.gate.store.get(a_action).approvals == []


def test_expired_action_cannot_be_approved(slack: Workspace, fake: FakeSlack, chat: Conversation,
                                           clock: Clock) -> None:
    slack.slash("U0OPERATOR", "restart shop/checkout")
    card_ts, card = slack.next_card()
    [action] = set(buttons(card))
    clock.advance(hours=2)
    slack.click("U0LEAD", card_ts, action)
    note = slack.next("chat.postEphemeral", user="U0LEAD")
    assert f"action #{action} expired" in note["text"]
    slack.next("chat.update", ts=card_ts)
    assert "expired" in card_text(fake.message(CHANNEL, card_ts)) and buttons(fake.message(CHANNEL, card_ts)) == []
    assert executions(chat.door) == []


def test_a_redelivery_to_another_replica_is_handled_once(fake: FakeSlack, chat: Conversation) -> None:
    settings = SlackSettings(bot_token=SecretStr(fake.token), signing_secret=SecretStr(SECRET),
                             api_base_url=fake.base_url)  # type: ignore[attr-defined]
    one, two = SlackFrontend(settings, chat), SlackFrontend(settings, chat)  # two pods on one Redis
    with served(one.http_app()) as a, served(two.http_app()) as b:
        first, second = Workspace(a.url, fake), Workspace(b.url, fake)
        first.mention("U0VIEWER", "policy whatcan")
        second.seq = first.seq - 2  # Slack redelivers the same event (same id), and reaches the other pod
        second.mention("U0VIEWER", "policy whatcan")
        second.mention("U0VIEWER", "help")  # by its answer, the redelivery is long through
        fake.wait_for("chat.postEphemeral", 2)
    assert len(fake.made("chat.postEphemeral")) == 2, "policy once, help once"


def test_a_long_reply_arrives_as_several_messages_in_order(slack: Workspace, fake: FakeSlack) -> None:
    from bot.chat.frontends.slack import MAX_TEXT, outgoing

    parts = outgoing("\n".join(f"line {i:05d} " + "x" * 90 for i in range(120)))
    assert len(parts) == 4 and all(len(p) <= MAX_TEXT for p in parts)
    assert [line for p in parts for line in p.splitlines()][-1].startswith("line 00119")


def test_ratelimited_calls_are_waited_out(slack: Workspace, fake: FakeSlack) -> None:
    fake.ratelimit = 1  # Slack answers the next chat.* call with 429 ratelimited, Retry-After: 1
    slack.mention("U0VIEWER", "policy whatcan")
    answered = slack.next_call("chat.postEphemeral")
    assert answered.error is None and answered.args["text"].startswith("slack:U0VIEWER")
    assert [c.error for c in fake.calls if c.method.startswith("chat.")] == ["ratelimited", None]


def test_a_card_with_hundreds_of_evidence_lines_stays_within_slacks_text_limit(fake: FakeSlack) -> None:
    from bot.cards.model import Card, EvidenceLine
    from bot.cards.slack import render_slack
    from bot.cards.thread import MAX_PARTS
    from bot.chat.frontends.slack_poster import SlackPoster, slack_client
    from tests.support.fake_slack import blocks_text

    card = Card(incident_id="inc-big", title="KubePodCrashLooping: checkout", severity="P1", status="firing",
                source="alertmanager", failing="checkout pods crash-loop", updated_at=datetime.now(UTC),
                evidence=[EvidenceLine(check=f"k8s_pod_logs shop/checkout-{i}", text="FATAL " + "y" * 300)
                          for i in range(200)])
    body = render_slack(card)
    size = blocks_text(body["attachments"][0]["blocks"])
    assert size <= 12_000 and "(1 of 200 lines; " in json.dumps(body, ensure_ascii=False), "the card: a few lines"
    poster = SlackPoster(slack_client(fake.token, fake.base_url), CHANNEL)  # type: ignore[attr-defined]
    ref = poster.post(card)
    poster.thread(ref, card)  # every line, as replies Slack accepts (the fake refuses msg_too_long)
    [posted, *replies] = fake.made("chat.postMessage")
    assert 1 < len(replies) <= MAX_PARTS and all(r.args["thread_ts"] == ref.message_id for r in replies)
    assert "checkout-0" in replies[0].args["text"] and "more lines: `opsbot incident show inc-big`" in \
        replies[-1].args["text"], "past six messages, where the rest is"
