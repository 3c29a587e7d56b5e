"""What the Slack frontend remembers in Redis, shared by every replica: the events already handled (Slack
redelivers) and the threads opsbot answered in (a plain reply there is a question to opsbot)."""

from __future__ import annotations

import redis


class Seen:
    """Event ids already handled (Slack redelivers an event it thinks was not acknowledged, to any replica):
    one Redis key per id, set once, kept an hour, shared by every frontend on the same Redis."""

    TTL_S = 3600  # Slack retries a delivery three times within minutes

    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.prefix = client, prefix

    def first(self, event_id: str) -> bool:
        return bool(self.client.set(f"{self.prefix}slack:event:{event_id}", 1, nx=True, ex=self.TTL_S))


class Threads:
    """The Slack threads opsbot answered in (a mention's thread, a command's answer, a card it posted in chat): a
    plain reply there, without a mention, is a question to opsbot. One Redis key per thread, kept KEEP_S."""

    KEEP_S = 14 * 86400  # an incident's thread goes quiet within days

    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.prefix = client, prefix

    def _key(self, channel: str, ts: str) -> str:
        return f"{self.prefix}slack:thread:{channel}:{ts}"

    def add(self, channel: str, ts: str | None) -> None:
        if ts:
            self.client.set(self._key(channel, ts), 1, ex=self.KEEP_S)

    def has(self, channel: str, ts: str) -> bool:
        return bool(self.client.exists(self._key(channel, ts)))
