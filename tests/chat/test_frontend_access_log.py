"""`opsbot serve-slack --http` and `opsbot serve-telegram --webhook` as real subprocesses under uvicorn's own
logging: a served request leaves its access line in the log, redacted, and no "--- Logging error ---"."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.polling import poll
from sandbox import procs
from sandbox.manager import Sandbox
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.serve_process import OPSBOT, config_file
from tests.support.slack_workspace import SECRET

QUERY_SECRET = "qs-t0k3n-9f8e7d6c"  # a secret in the request's query string: the access line shows the path


@contextmanager
def frontend(config: Path, port: int, *command: str) -> Iterator[list[str]]:
    """The frontend until the block ends (SIGTERM); what it printed is appended to the yielded list."""
    proc = subprocess.Popen([OPSBOT, "--log-level", "INFO", *command, "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []

    def up() -> bool | None:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500 or None
        except httpx.HTTPError:
            return True if proc.poll() is not None else None

    try:
        if not poll(up, 60, interval_s=0.2) or proc.poll() is not None:
            proc.terminate()
            raise AssertionError(f"{command} did not come up:\n{proc.communicate(timeout=60)[0]}")
        yield output
    finally:
        proc.terminate()
        output.append(proc.communicate(timeout=60)[0])


def assert_clean_access_line(log: str, request_line: str) -> None:
    assert "Logging error" not in log and "Traceback" not in log, log
    assert request_line in log, log
    assert QUERY_SECRET not in log and "token=[REDACTED]" in log, log


def test_slack_http_mode_logs_its_access_lines_without_a_logging_error(sandbox: Sandbox, slack_fake: FakeSlack,
                                                                       tmp_path: Path) -> None:
    port = procs.free_port()
    api = slack_fake.base_url  # type: ignore[attr-defined]
    config, _ = config_file(sandbox, tmp_path / "opsbot.yaml", f"test:{uuid.uuid4().hex}:", slack={
        "bot_token": slack_fake.token, "signing_secret": SECRET, "api_base_url": api, "host": "127.0.0.1",
        "port": port})
    with frontend(config, port, "serve-slack", "--http") as output:
        body = json.dumps({"type": "url_verification", "challenge": "c-42"})
        ts = str(int(time.time()))
        r = httpx.post(f"http://127.0.0.1:{port}/slack/events?token={QUERY_SECRET}", content=body, timeout=10,
                       headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                                "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts,
                                                                                                  body=body)})
        assert r.status_code == 200 and "c-42" in r.text, r.text
    assert_clean_access_line(output[0], '"POST /slack/events?token=[REDACTED] HTTP/1.1" 200')


def test_telegram_webhook_mode_logs_its_access_lines_without_a_logging_error(
        sandbox: Sandbox, telegram_fake: FakeTelegram, tmp_path: Path) -> None:
    port = procs.free_port()
    config, _ = config_file(sandbox, tmp_path / "opsbot.yaml", f"test:{uuid.uuid4().hex}:", telegram={
        "bot_token": telegram_fake.token, "base_url": telegram_fake.base_url,  # type: ignore[attr-defined]
        "webhook_secret": "s3cret-hook", "allowed_chat_ids": [-100777], "host": "127.0.0.1", "port": port})
    with frontend(config, port, "serve-telegram", "--webhook") as output:
        r = httpx.post(f"http://127.0.0.1:{port}/telegram/webhook?token={QUERY_SECRET}", timeout=10,
                       json=telegram_fake.message_update(-100777, 1001, "/help"),
                       headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-hook"})
        assert r.status_code == 200, r.text
    assert_clean_access_line(output[0], '"POST /telegram/webhook?token=[REDACTED] HTTP/1.1" 200')
