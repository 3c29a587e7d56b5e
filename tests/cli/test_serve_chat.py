"""`opsbot serve --chat`: the whole ChatOps loop in one process (webhooks, a triage worker, the Telegram
frontend), as a subprocess against the sandbox and the fake Bot API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.polling import poll
from sandbox.manager import Sandbox
from tests.support.fake_telegram import FakeTelegram, running
from tests.support.serve_process import config_file, post_alerts, serving

GROUP, ONCALL = -100777, 1001


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


def test_one_process_turns_an_alert_into_a_card_and_answers_in_the_chat(sandbox: Sandbox, fake: FakeTelegram,
                                                                       tmp_path: Path) -> None:
    config, port = config_file(sandbox, tmp_path / "opsbot.yaml", f"test:{uuid.uuid4().hex}:", telegram={
        "bot_token": fake.token, "base_url": fake.base_url,  # type: ignore[attr-defined]
        "allowed_chat_ids": [GROUP], "alert_chat_id": GROUP})
    with serving(config, port, "--chat", "--workers", "1") as served:
        fake.wait_for("getUpdates", 1, timeout=60)  # the Telegram frontend polls from the same process

        labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout",
                  "severity": "critical"}
        r = post_alerts(served.base, am_payload([am_alert(labels, {"summary": "checkout pods are crash-looping"})]))
        assert r.status_code == 200, r.text
        card = fake.wait_for("sendMessage", 1, timeout=60, chat_id=GROUP)[0]
        assert "KubePodCrashLooping" in card.args["text"] and "DATABASE_URL is not set" in card.args["text"]

        before = len(fake.calls)
        fake.push(fake.message_update(GROUP, ONCALL, "/pods shop"))
        reply = poll(lambda: next((c for c in fake.calls[before:] if c.method in ("sendMessage", "editMessageText")
                                   and not c.args["text"].startswith("<i>")), None), 60, interval_s=0.1)
        assert reply is not None and "checkout" in reply.args["text"] and "CrashLoopBackOff" in reply.args["text"]
    assert "telegram: long polling" in served.output, served.output
    assert served.proc.returncode in (0, -15), served.output
