"""Conversation memory in Redis: per thread, bounded, expiring, redacted."""

from __future__ import annotations

import uuid

from bot.chat.memory import Line, Memory
from bot.settings import MemorySettings, Settings
from bot.wiring import redis_client


def memory(settings: Settings, **limits: int) -> Memory:
    return Memory(redis_client(settings), MemorySettings(**limits), f"test:{uuid.uuid4().hex}:")


def test_memory_keeps_only_the_newest_messages(settings: Settings) -> None:
    m = memory(settings, max_messages=4)
    for i in range(10):
        m.append("t", Line(role="user", text=f"q{i}"), Line(role="assistant", text=f"a{i}"))
    assert [line.text for line in m.load("t")] == ["q8", "a8", "q9", "a9"]
    assert m.client.llen(m.key("t")) == 4


def test_memory_expires_when_idle(settings: Settings) -> None:
    m = memory(settings, ttl_s=600)
    m.append("t", Line(role="user", text="hello"))
    assert 0 < m.client.ttl(m.key("t")) <= 600
    m.client.expire(m.key("t"), 1)
    m.append("t", Line(role="assistant", text="hi"))
    assert m.client.ttl(m.key("t")) > 1, "every write renews the expiry"


def test_threads_are_separate(settings: Settings) -> None:
    m = memory(settings)
    m.append("slack:C1:1700.1", Line(role="user", text="one"))
    m.append("slack:C1:1700.2", Line(role="user", text="two"))
    assert [line.text for line in m.load("slack:C1:1700.1")] == ["one"]
    assert m.load("slack:C9:unknown") == []


def test_memory_stores_only_redacted_text(settings: Settings) -> None:
    m = memory(settings)
    m.append("t", Line(role="user", text="deploy with token=abc123 please"))
    raw = m.client.lrange(m.key("t"), 0, -1)
    assert b"abc123" not in b"".join(raw)
    assert m.load("t")[0].text == "deploy with token=[REDACTED] please"


def test_memory_down_means_no_history_not_a_failure(settings: Settings, dead_url: str) -> None:
    down = settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": dead_url.replace("http", "redis"), "timeout_s": 0.5})})
    m = memory(down)
    m.append("t", Line(role="user", text="hello"))
    assert m.load("t") == []
