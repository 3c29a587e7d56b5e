"""Durable, at-least-once intake: accepted deliveries go into a Redis Stream before the webhook answers 2xx.

Webhook side (async): `Intake.accept` stores one delivery (bot.intake.delivery: its masked payload, all its
alerts) as one stream entry together with its replay marker, in one Lua script and one round trip, so a
delivery is either wholly stored or not at all (a failed write leaves no marker behind: the sender's retry
is accepted). With `wait_replicas`, the write must also reach that many replicas (WAIT) before it counts, so a
failover to a replica cannot lose an alert answered 2xx; if it does not, the marker is dropped and the sender
told to retry. Worker side (sync): `AlertStream` reads through a consumer group, unpacks each entry into its
alerts, acknowledges an entry after the effects of all its alerts are stored, reclaims what a dead worker left pending, and parks poison entries in a dead-letter stream.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import redis.asyncio as aredis
import structlog

from bot.intake.alert import Alert
from bot.intake.delivery import Delivery, SeverityOf
from policies.schema import Severity

log = structlog.get_logger(__name__)

GROUP = "triage"

_ACCEPT = """
if KEYS[2] ~= '' then
  if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[1])) then return 0 end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
"""


class IntakeUnavailable(Exception):
    """The alert could not be stored: the webhook answers 503 so the sender retries."""


@dataclass(frozen=True)
class Accepted:
    duplicate: bool
    entry_id: str | None  # None for a duplicate


def stream_key(prefix: str) -> str:
    return f"{prefix}alerts"


class Intake:
    def __init__(self, client: aredis.Redis, prefix: str, maxlen: int = 100_000, wait_replicas: int = 0,
                 wait_timeout_s: float = 0.5):
        self.client, self.prefix, self.maxlen = client, prefix, maxlen
        self.wait_replicas, self.wait_timeout_s = wait_replicas, wait_timeout_s
        self.stream = stream_key(prefix)
        self._script = client.register_script(_ACCEPT)

    async def accept(self, delivery: Delivery, seen_as: str | None, replay_window_s: int) -> Accepted:
        """Store one delivery whole, as one entry; `seen_as` (a Request-ID, a payload hash) marks replays."""
        marker = f"{self.prefix}delivery:{seen_as}" if seen_as else ""
        pairs = [x for item in delivery.fields().items() for x in item]
        keys, args = [self.stream, marker], [replay_window_s, self.maxlen, *pairs]
        try:
            out, replicas = await self._store(keys, args)
        except (redis.RedisError, OSError) as e:
            raise IntakeUnavailable(f"could not store the alert in Redis: {type(e).__name__}: {e}") from None
        if out != 0 and replicas < self.wait_replicas:
            await self._forget(marker)
            raise IntakeUnavailable(f"the alert reached {replicas} of {self.wait_replicas} replicas within "
                                    f"{self.wait_timeout_s}s")
        if out == 0:
            return Accepted(duplicate=True, entry_id=None)
        return Accepted(duplicate=False, entry_id=out.decode() if isinstance(out, bytes) else out)

    async def _store(self, keys: list[str], args: list) -> tuple[Any, int]:
        """The script's answer, and how many replicas hold its write (0 when none are waited for)."""
        if not self.wait_replicas:
            return await self._script(keys=keys, args=args), 0
        async with self.client.pipeline(transaction=False) as pipe:  # one connection: WAIT counts its own write
            await self._script(keys=keys, args=args, client=pipe)
            pipe.wait(self.wait_replicas, int(self.wait_timeout_s * 1000))
            out, replicas = await pipe.execute()
        return out, replicas

    async def _forget(self, marker: str) -> None:
        """Drop the replay marker of a write that did not reach the replicas, so the sender's retry is stored."""
        if not marker:
            return
        try:
            await self.client.delete(marker)
        except (redis.RedisError, OSError) as e:
            # the primary is gone: the marker went with it, or reached a replica in one piece with the entries
            log.warning("replay_marker_kept", marker=marker, error=f"{type(e).__name__}: {e}")

    async def ready(self, group: str = GROUP) -> str | None:
        """None when alerts will be triaged (Redis answers and the workers' group exists), else why not.

        The reason is for the public /readyz: it names no address; the log has the details."""
        try:
            groups = await self.client.xinfo_groups(self.stream)
        except redis.ResponseError:  # no stream yet: no worker has created its group
            groups = []
        except (redis.RedisError, OSError) as e:
            log.warning("redis_unreachable", error=f"{type(e).__name__}: {e}")
            return "Redis is unreachable"
        names = {g["name"].decode() if isinstance(g["name"], bytes) else g["name"] for g in groups}
        if group not in names:
            return ("the triage workers' consumer group does not exist yet "
                    "(they are starting, or recovering from a Redis restart)")
        return None


@dataclass(frozen=True)
class Entry:
    """One stream entry: one delivery and the alerts it holds, in order."""
    id: str
    alerts: list[Alert] | None  # None: the entry could not be read (it goes to the dead-letter stream)
    raw: dict[str, str]

    def keys(self) -> list[tuple[str, Alert]]:
        """Each alert with its own idempotency key (this entry's id and its place in the delivery)."""
        return [(f"{self.id}/{i}", alert) for i, alert in enumerate(self.alerts or [])]


@dataclass(frozen=True)
class Received:
    """One alert the webhooks stored (None: its entry could not be read)."""
    id: str
    alert: Alert | None


def unranked(source: str, label: str | None) -> Severity:
    """The severity readers that only count alerts give them (the worker ranks by the policy instead)."""
    return "P3"


def _entries(rows: list, severity: SeverityOf) -> list[Entry]:
    out = []
    for entry_id, fields in rows:
        if fields is None:  # trimmed away while pending
            continue
        eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        raw = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
               for k, v in fields.items()}
        try:
            alerts: list[Alert] | None = [Alert.model_validate_json(raw["alert"])] if "alert" in raw else \
                Delivery.of(raw).alerts(severity)  # "alert": one alert per entry, as stored before deliveries
        except (KeyError, ValueError):
            alerts = None
        out.append(Entry(eid, alerts, raw))
    return out


def _received(entry: Entry) -> list[Received]:
    return [Received(key, alert) for key, alert in entry.keys()] if entry.alerts is not None else \
        [Received(entry.id, None)]


class AlertStream:
    """The worker's side of the stream: one consumer group, many consumers."""

    def __init__(self, client: redis.Redis, prefix: str, group: str = GROUP, severity: SeverityOf = unranked):
        """`severity`: the policy's mapping (PolicyEngine.severity) for the workers; readers that count need none."""
        self.client, self.prefix, self.group, self.severity = client, prefix, group, severity
        self.stream = stream_key(prefix)
        self.dead = f"{self.stream}:dead"

    def ensure_group(self) -> None:
        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def read(self, consumer: str, count: int = 50, block_ms: int | None = 1000) -> list[Entry]:
        rows = self.client.xreadgroup(self.group, consumer, {self.stream: ">"}, count=count, block=block_ms)
        return _entries(rows[0][1], self.severity) if rows else []

    def reclaim(self, consumer: str, min_idle_s: float, count: int = 50) -> list[Entry]:
        """Entries another consumer read but did not acknowledge for `min_idle_s`: now ours (XAUTOCLAIM)."""
        out = self.client.xautoclaim(self.stream, self.group, consumer, int(min_idle_s * 1000), "0-0", count=count)
        return _entries(out[1], self.severity)

    def attempts(self, entry_id: str) -> int:
        rows = self.client.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
        return int(rows[0]["times_delivered"]) if rows else 0

    def not_yet(self, consumer: str, entry_id: str) -> None:
        """An entry that waits for another (not a failure): kept pending, its delivery count back to 0 so the
        wait does not count towards burying it (XCLAIM RETRYCOUNT)."""
        self.client.xclaim(self.stream, self.group, consumer, 0, [entry_id], retrycount=0, justid=True)

    def ack(self, entry_id: str) -> None:
        self.client.xack(self.stream, self.group, entry_id)

    def bury(self, entry: Entry, reason: str) -> None:
        """Park a poison entry in the dead-letter stream and acknowledge it, so it stops blocking the group."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(self.dead, {**entry.raw, "entry_id": entry.id, "reason": reason[:500]}, maxlen=10_000)
        pipe.xack(self.stream, self.group, entry.id)
        pipe.execute()
        log.error("alert_entry_dead_lettered", entry=entry.id, reason=reason)

    def received(self, since: datetime, until: datetime, batch: int = 1000) -> Iterator[Received]:
        """Every alert the webhooks stored in [since, until] (stream ids are their arrival times), oldest first;
        as far back as the stream's length cap keeps them."""
        lo, hi = str(int(since.timestamp() * 1000)), str(int(until.timestamp() * 1000))
        while True:
            rows = self.client.xrange(self.stream, lo, hi, count=batch)
            for entry in _entries(rows, self.severity):
                yield from _received(entry)
            if len(rows) < batch:
                return
            last = rows[-1][0]
            lo = "(" + (last.decode() if isinstance(last, bytes) else last)

    def latest(self, count: int) -> Iterator[Received]:
        """The alerts of the newest `count` entries, newest entry first."""
        for entry in _entries(self.client.xrevrange(self.stream, count=count), self.severity):
            yield from _received(entry)

    def stats(self) -> dict[str, int]:
        info = self.client.xinfo_stream(self.stream)
        pending = self.client.xpending(self.stream, self.group)["pending"]
        return {"length": int(info["length"]), "added": int(info.get("entries-added", info["length"])),
                "pending": int(pending), "dead": int(self.client.xlen(self.dead))}
