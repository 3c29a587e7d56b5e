"""Limits for people: model questions per user and per channel over the last hour, kept in Redis so every
replica counts the same. A refused question costs nothing; commands (pods, logs …) are never limited."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis

from bot.messages import QUESTION_LIMIT

WINDOW = timedelta(hours=1)

_TAKE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {i, tostring(tonumber(oldest[2]) + window)}
  end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[5])
  redis.call('EXPIRE', key, window)
end
return {0, ''}
"""


def channel_of(thread: str) -> str:
    """'slack:C0ONCALL:1700000000.000100' → 'slack:C0ONCALL'; 'telegram:-100123' stays as it is."""
    return ":".join(thread.split(":")[:2])


class QuestionLimits:
    def __init__(self, client: redis.Redis, prefix: str, per_user: int, per_channel: int,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client, self.prefix, self.per_user, self.per_channel, self.now = (
            client, prefix, per_user, per_channel, now)
        self._take = client.register_script(_TAKE)

    def take(self, identity: str, thread: str) -> str | None:
        """Count one question, or the sentence saying which limit is reached and when it frees up."""
        checks = [(f"{self.prefix}limit:user:{identity}", self.per_user, "you have",
                   "chat.questions_per_user_per_hour"),
                  (f"{self.prefix}limit:channel:{channel_of(thread)}", self.per_channel, "this channel has",
                   "chat.questions_per_channel_per_hour")]
        checks = [c for c in checks if c[1] > 0]  # 0: no limit
        if not checks:
            return None
        limits = [c[1] for c in checks] + [0] * (2 - len(checks))
        hit, until = self._take(keys=[c[0] for c in checks], args=[
            self.now().timestamp(), WINDOW.total_seconds(), *limits, uuid.uuid4().hex])
        if not hit:
            return None
        _, limit, who, setting = checks[int(hit) - 1]
        free = datetime.fromtimestamp(float(until), UTC)
        return QUESTION_LIMIT.format(who=who, limit=limit, setting=setting, free=f"{free:%H:%M} UTC")
