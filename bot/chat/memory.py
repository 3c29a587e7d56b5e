"""Conversation memory per chat thread in Redis: redacted text only, bounded in length, expiring when idle."""

from __future__ import annotations

import json
from typing import Literal

import redis
import structlog
from pydantic import BaseModel

from bot.redact import redact
from bot.settings import MemorySettings

log = structlog.get_logger(__name__)


class Line(BaseModel):
    role: Literal["user", "assistant"]
    text: str


class Memory:
    """One Redis list per thread: RPUSH, LTRIM to the newest max_messages, EXPIRE ttl_s on every write.

    Memory is a convenience: if Redis fails, the question is answered without history (and logged).
    """

    def __init__(self, client: redis.Redis, settings: MemorySettings, prefix: str):
        self.client, self.settings, self.prefix = client, settings, prefix

    def key(self, thread: str) -> str:
        return f"{self.prefix}memory:{thread}"

    def load(self, thread: str) -> list[Line]:
        try:
            raw = self.client.lrange(self.key(thread), 0, -1)
        except redis.RedisError as e:
            log.warning("memory_unavailable", thread=thread, error=str(e))
            return []
        return [Line.model_validate_json(r) for r in raw]

    def append(self, thread: str, *lines: Line) -> None:
        key = self.key(thread)
        try:
            with self.client.pipeline() as p:
                for line in lines:
                    p.rpush(key, json.dumps({"role": line.role, "text": redact(line.text)}))
                p.ltrim(key, -self.settings.max_messages, -1)
                p.expire(key, self.settings.ttl_s)
                p.execute()
        except redis.RedisError as e:
            log.warning("memory_unavailable", thread=thread, error=str(e))

    def forget(self, thread: str) -> None:
        self.client.delete(self.key(thread))
