"""Telegram: updates through the webhook path (secret header checked) and long polling, a fake Bot API."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from starlette.testclient import TestClient

from bench.hostile_payloads import hostile_body
from bot import messages
from bot.chat.conversation import Conversation
from bot.chat.frontends import messages as fm
from bot.chat.frontends.telegram import SECRET_HEADER, UPDATES, TelegramFrontend, html_text
from bot.settings import Settings, TelegramSettings
from tests.support.chatkit import conversation, executions, replicas
from tests.support.doors import Clock
from tests.support.fake_telegram import Call, FakeTelegram, check_html, running

GROUP, STRANGERS = -100123, -100999
SECRET = "s3cret-token_for-webhook"


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def chat(mutable_settings: Settings, clock: Clock) -> Conversation:
    return conversation(mutable_settings, clock)


@pytest.fixture
def frontend(fake: FakeTelegram, chat: Conversation) -> TelegramFrontend:
    settings = TelegramSettings(bot_token=SecretStr(fake.token), allowed_chat_ids=[GROUP],
                                webhook_secret=SecretStr(SECRET), webhook_url="https://opsbot.example/telegram/webhook",
                                base_url=fake.base_url)  # type: ignore[attr-defined]
    return TelegramFrontend(settings, chat)


@dataclass
class Group:
    """Plays Telegram's side of the webhook: posts updates with the secret header, waits for the bot's calls."""

    client: TestClient
    fake: FakeTelegram
    counts: dict[str, int] = field(default_factory=dict)

    def deliver(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return self.client.post("/telegram/webhook", json=update, headers=headers).status_code

    def says(self, user: int, text: str, chat: int = GROUP) -> int:
        return self.deliver(self.fake.message_update(chat, user, text))

    def presses(self, user: int, message_id: int, data: str, chat: int = GROUP) -> int:
        return self.deliver(self.fake.callback_update(chat, user, message_id, data))

    def next(self, method: str, **match: Any) -> Call:
        key = method + repr(sorted(match.items()))
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.fake.wait_for(method, self.counts[key], **match)[-1]

    def next_card(self) -> tuple[int, dict[str, Any]]:
        while True:
            call = self.next("sendMessage", chat_id=GROUP)
            if call.args.get("reply_markup"):
                return call.result["message_id"], call.args


@pytest.fixture
def group(frontend: TelegramFrontend, fake: FakeTelegram) -> Iterator[Group]:
    with TestClient(frontend.webhook_app()) as client:
        yield Group(client, fake)


def test_webhook_checks_the_secret_header(group: Group, fake: FakeTelegram) -> None:
    assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET, "set at start-up"
    update = fake.message_update(GROUP, 1001, "/help")
    assert group.deliver(update, secret=None) == 403
    assert group.deliver(update, secret="wrong") == 403
    assert not fake.made("sendMessage"), "a forged update does nothing"
    assert group.deliver(update) == 200
    help_ = group.next("sendMessage", chat_id=GROUP).args
    assert help_["parse_mode"] == "HTML" and "I am opsbot" in check_html(help_["text"])


def test_hostile_webhook_bodies_get_4xx_and_no_docs_are_served(group: Group, fake: FakeTelegram) -> None:
    post = group.client.post
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    assert post("/telegram/webhook", content=b"{", headers=headers).status_code == 400
    assert post("/telegram/webhook", content=b"[" * 10_000, headers=headers).status_code == 400
    assert post("/telegram/webhook", content=b'{"update_id": "x"}', headers=headers).status_code == 400
    assert post("/telegram/webhook", content=b'{"update_id": 1, "message": 7}', headers=headers).status_code == 400
    assert post("/telegram/webhook", content=b"x" * 2_000_000, headers=headers).status_code == 413
    assert not fake.made("sendMessage"), "nothing reached the handlers"
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert group.client.get(path).status_code == 404


@given(st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # one app serves every example
def test_generated_hostile_bodies_get_a_4xx_never_a_5xx(group: Group, fake: FakeTelegram,
                                                         rnd: random.Random) -> None:
    valid = json.dumps(fake.message_update(GROUP, 1001, "/help")).encode()
    kind, body = hostile_body(rnd, valid)
    r = group.client.post("/telegram/webhook", content=body,
                          headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
    assert r.status_code < 500, f"{kind}: {r.status_code} {r.text[:200]}"


def test_commands_show_progress_in_one_message(group: Group, fake: FakeTelegram) -> None:
    group.says(1002, "/pods@opsbot_bot shop")
    first = group.next("sendMessage", chat_id=GROUP).args
    assert check_html(first["text"]) == "checking pods…"
    final = group.next("editMessageText").args
    assert "CrashLoopBackOff" in check_html(final["text"]) and "<code>" in final["text"]
    assert len(fake.made("sendMessage")) == 1


def test_other_chats_get_one_refusal_then_silence(group: Group, fake: FakeTelegram) -> None:
    group.says(1002, "/status", chat=STRANGERS)
    refusal = group.next("sendMessage", chat_id=STRANGERS).args
    assert refusal["text"] == fm.CHAT_NOT_ALLOWED.format(chat_id=STRANGERS)
    group.says(1002, "/scale checkout 6", chat=STRANGERS)
    group.says(1002, "/policy whatcan", chat=GROUP)  # by its answer, the strangers' second message is long through
    group.next("sendMessage", chat_id=GROUP)
    assert len(fake.made("sendMessage")) == 2, "nothing more was said to the strangers"


def test_in_a_group_only_what_is_addressed_to_opsbot_reaches_it(group: Group, fake: FakeTelegram) -> None:
    group.says(1001, "lunch at noon? checkout team is buying")  # the group's own talk
    group.says(1001, "/policy whatcan")  # by its answer, the chatter before it is long through
    answered = group.next("sendMessage", chat_id=GROUP)
    assert len(fake.made("sendMessage")) == 1, "the chatter got no answer"
    reply_id = int(answered.result["message_id"])
    group.deliver(fake.message_update(GROUP, 1001, "and who may approve?", reply_to=reply_id))
    group.next("sendMessage", chat_id=GROUP)  # a reply to opsbot's message is for opsbot


def test_free_question_without_a_model(group: Group) -> None:
    group.says(1001, "@opsbot_bot why is checkout failing? <b>now</b> & then")
    text = group.next("sendMessage", chat_id=GROUP).args["text"]
    while text.startswith("<i>"):  # progress: thinking…, checking Deployment shop/checkout…
        text = group.next("editMessageText").args["text"]
    assert "No language model is configured" in check_html(text)
    assert "DATABASE_URL is not set" in text, "the evidence still answers"


# -- the shift, as a table --------------------------------------------------------------------------------------

SHIFT = [
    # who    does                   what Telegram shows afterwards
    (1001, "/scale checkout 6", "card: scale shop/checkout from 3 to 6 replicas — waiting for approval"),
    (5555, "presses Approve", "alert to 5555: may not approve"),
    (1001, "presses Approve", "alert to 1001: may not approve their own action"),
    (1002, "presses Approve", "card edited: executed; decided by telegram:1002"),
    (1002, "presses Approve", "alert to 1002: has already approved this action"),
]


def test_shift_scale_checkout(group: Group, fake: FakeTelegram, chat: Conversation) -> None:
    card_id, approve = 0, ""
    for who, does, shows in SHIFT:
        if does.startswith("/"):
            group.says(who, does)
            card_id, card = group.next_card()
            [[yes, no]] = card["reply_markup"]["inline_keyboard"]
            approve = yes["callback_data"]
            assert approve.startswith("ap:") and no["callback_data"].startswith("dn:")
            assert shows.removeprefix("card: ") in check_html(card["text"])
            continue
        edits = len(fake.made("editMessageText"))
        assert group.presses(who, card_id, approve) == 200
        answer = group.next("answerCallbackQuery").args
        if shows.startswith("alert to"):
            assert shows.split(": ", 1)[1] in answer["text"] and answer["show_alert"] in (True, "true")
            assert len(fake.made("editMessageText")) == edits, "card unchanged"
        else:
            edited = group.next("editMessageText", message_id=card_id).args
            text = check_html(edited["text"])
            for part in shows.removeprefix("card edited: ").split("; "):
                assert part in text, text
            assert "UTC" in text and not (edited.get("reply_markup") or {}).get("inline_keyboard")
    assert replicas(chat.door) == 6
    assert executions(chat.door) == ["success"]
    assert len(fake.made("answerCallbackQuery")) == 4, "every press answered"


def test_a_forged_callback_acts_only_on_its_own_card(group: Group, fake: FakeTelegram, chat: Conversation) -> None:
    group.says(1001, "/scale checkout 6")
    a_id, a = group.next_card()
    group.says(1001, "/restart shop/checkout")
    _, b = group.next_card()
    b_approve = b["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    edits = len(fake.made("editMessageText"))
    assert group.presses(1002, a_id, b_approve) == 200  # a modified client sends B's data on A's message
    answer = group.next("answerCallbackQuery").args
    assert answer["text"] == messages.NOT_THIS_CARD[:200] and answer["show_alert"] in (True, "true")
    assert len(fake.made("editMessageText")) == edits and executions(chat.door) == []
    assert chat.door.gate.store.get(b_approve.split(":", 1)[1]).state == "pending"


def test_expired_action_and_strangers_buttons(group: Group, fake: FakeTelegram, clock: Clock,
                                              chat: Conversation) -> None:
    group.says(1001, "/restart shop/checkout")
    card_id, card = group.next_card()
    deny = card["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    fake.messages[STRANGERS, card_id] = {**fake.messages[GROUP, card_id], "chat": {"id": STRANGERS, "type": "group"}}
    group.presses(1002, card_id, deny, chat=STRANGERS)
    assert group.next("answerCallbackQuery").args["text"] == fm.CLICK_NOT_ALLOWED
    clock.advance(hours=2)
    group.presses(1002, card_id, "ap:" + deny.removeprefix("dn:"))
    assert "expired" in group.next("answerCallbackQuery").args["text"]
    assert "expired" in check_html(group.next("editMessageText", message_id=card_id).args["text"])
    assert executions(chat.door) == []


def test_html_is_escaped() -> None:
    assert check_html(html_text("a <b>bold</b> & `x<y`")) == "a <b>bold</b> & x<y"


async def test_long_polling(frontend: TelegramFrontend, fake: FakeTelegram) -> None:
    app = frontend.application
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=UPDATES, drop_pending_updates=True)
    try:
        fake.push(fake.message_update(GROUP, 1002, "/policy whatcan"))
        said = (await asyncio.to_thread(fake.wait_for, "sendMessage"))[0].args
        assert "telegram:1002: roles oncall-lead" in check_html(said["text"])
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake.made("deleteWebhook"), "polling starts by removing any webhook"
