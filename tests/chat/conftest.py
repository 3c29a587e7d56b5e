"""The fakes the chat tests share: Slack's Web API, Telegram's Bot API and an OpenAI-compatible model server,
served on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.chatkit import served
from tests.support.fake_openai import KEY, MODEL, FakeOpenAI, serve
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram, running


@pytest.fixture
def slack_fake() -> Iterator[FakeSlack]:
    f = FakeSlack()
    with served(f.app()) as server:
        f.base_url = f"{server.url}/api/"  # type: ignore[attr-defined]
        yield f
    # a `ratelimited` the test asked the fake for is Slack's answer, not a mistake of opsbot's
    assert not [c for c in f.errors() if c.method != "auth.test" and c.error != "ratelimited"], \
        f"Slack would have rejected: {f.errors()}"


@pytest.fixture
def telegram_fake() -> Iterator[FakeTelegram]:
    with running() as f:
        yield f


@pytest.fixture
def openai_fake() -> Iterator[tuple[FakeOpenAI, str]]:
    """The model server and its base URL (`llm_settings` points opsbot at it)."""
    f = FakeOpenAI(KEY, MODEL)
    with serve(f) as url:
        yield f, url
