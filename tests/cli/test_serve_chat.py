"""`opsbot serve --chat`: the whole ChatOps loop in one process (webhooks, a triage worker, the Telegram
frontend), as a subprocess against the sandbox and the fake Bot API."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.polling import poll
from sandbox import procs
from sandbox.manager import Sandbox
from tests.support.fake_telegram import FakeTelegram, running

GROUP, ONCALL = -100777, 1001
OPSBOT = str(Path(sys.executable).parent / "opsbot")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


def test_one_process_turns_an_alert_into_a_card_and_answers_in_the_chat(sandbox: Sandbox, fake: FakeTelegram,
                                                                       tmp_path: Path) -> None:
    port = procs.free_port()
    data = yaml.safe_load(sandbox.settings_file.read_text())
    data["redis"]["key_prefix"] = f"test:{uuid.uuid4().hex}:"
    data["webhooks"] = {**data.get("webhooks", {}), "host": "127.0.0.1", "port": port, "alertmanager_token": "tok"}
    data["telegram"] = {"bot_token": fake.token, "base_url": fake.base_url,  # type: ignore[attr-defined]
                        "allowed_chat_ids": [GROUP], "alert_chat_id": GROUP}
    config = tmp_path / "opsbot.yaml"
    config.write_text(yaml.safe_dump(data))
    proc = subprocess.Popen([OPSBOT, "serve", "--chat", "--workers", "1", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        assert poll(lambda: _ready(base), 60, interval_s=0.2), "the webhooks did not come up"
        fake.wait_for("getUpdates", 1, timeout=60)  # the Telegram frontend polls from the same process

        labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout",
                  "severity": "critical"}
        r = httpx.post(f"{base}/webhooks/alertmanager", content=encode(am_payload([am_alert(
            labels, {"summary": "checkout pods are crash-looping"})])),
            headers={"Content-Type": "application/json", "Authorization": "Bearer tok"}, timeout=10)
        assert r.status_code == 200, r.text
        card = fake.wait_for("sendMessage", 1, timeout=60, chat_id=GROUP)[0]
        assert "KubePodCrashLooping" in card.args["text"] and "DATABASE_URL is not set" in card.args["text"]

        before = len(fake.calls)
        fake.push(fake.message_update(GROUP, ONCALL, "/pods shop"))
        reply = poll(lambda: next((c for c in fake.calls[before:] if c.method in ("sendMessage", "editMessageText")
                                   and not c.args["text"].startswith("<i>")), None), 60, interval_s=0.1)
        assert reply is not None and "checkout" in reply.args["text"] and "CrashLoopBackOff" in reply.args["text"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert "telegram: long polling" in out, out
    assert proc.returncode in (0, -15), out


def _ready(base: str) -> bool | None:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200 or None
    except httpx.HTTPError:
        return None
