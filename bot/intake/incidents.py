"""Dedup and incidents: fingerprint → incident in Redis, updated atomically (one Lua script per alert).

- a firing alert with no open incident (or one quiet for longer than the window) opens a new incident;
- a repeat inside the window only counts (count, last seen): no new work;
- a resolved alert resolves its incident (its card is then edited); a firing one after that reopens it;
- firing↔resolved changes within the window ≥ flap_threshold: flapping, said once per incident;
- a status change older than the last one applied (two workers, out of order) is ignored as stale;
- each opening, resolution and reopening is appended to the incident's timeline (`timeline`), in the same
  script, so a replayed entry never writes it twice.

`observe` is idempotent per stream entry: a redelivered entry gets the answer it got the first time, so a
worker that crashed before acknowledging reproduces the same effects instead of counting a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import redis
from pydantic import BaseModel

from bot.intake.alert import Alert

Kind = Literal["new", "repeat", "resolved", "reopened", "stale", "orphan"]

_OBSERVE = """
local done = redis.call('GET', KEYS[3])
if done then return done end
local p, status, now, window, thr = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local event_at = tonumber(ARGV[9])
local id = redis.call('GET', KEYS[1])
local key, kind, flapping_now = nil, nil, 0
if id then
  key = p .. 'incident:' .. id
  if redis.call('EXISTS', key) == 0 then id = nil end
end
local function open_new()
  id = 'inc-' .. redis.call('INCR', p .. 'incident:seq')
  key = p .. 'incident:' .. id
  redis.call('HSET', key, 'id', id, 'fingerprint', ARGV[10], 'status', 'firing', 'severity', ARGV[6],
             'title', ARGV[7], 'source', ARGV[8], 'first_seen', now, 'last_seen', now, 'count', 1,
             'changed_at', event_at, 'flapping', 0)
  redis.call('SET', KEYS[1], id)
  kind = 'new'
end
if not id then
  local tomb = tonumber(redis.call('GET', KEYS[1] .. ':tomb') or '-1')
  if status == 'firing' then
    if event_at < tomb then kind = 'stale' else open_new() end
  else
    redis.call('SET', KEYS[1] .. ':tomb', event_at, 'EX', window)
    kind = 'orphan'
  end
else
  local cur = redis.call('HGET', key, 'status')
  local last_seen = tonumber(redis.call('HGET', key, 'last_seen'))
  local changed_at = tonumber(redis.call('HGET', key, 'changed_at'))
  local stale_incident = (now - last_seen) > window
  if status == cur then
    if status == 'firing' and stale_incident then open_new() else kind = 'repeat' end
  elseif event_at < changed_at then
    kind = 'stale'
  elseif status == 'firing' and stale_incident then
    open_new()
  else
    kind = (status == 'resolved') and 'resolved' or 'reopened'
    redis.call('HSET', key, 'status', status, 'changed_at', event_at)
    if status == 'resolved' then redis.call('HSET', key, 'resolved_at', now) end
    local flips = key .. ':flips'
    redis.call('ZADD', flips, now, ARGV[11])
    redis.call('ZREMRANGEBYSCORE', flips, '-inf', now - window)
    redis.call('EXPIRE', flips, window)
    if redis.call('ZCARD', flips) >= thr and redis.call('HGET', key, 'flapping') == '0' then
      redis.call('HSET', key, 'flapping', 1)
      flapping_now = 1
    end
  end
  if kind ~= 'new' and kind ~= 'stale' then
    redis.call('HSET', key, 'last_seen', now, 'severity', ARGV[6])
    redis.call('HINCRBY', key, 'count', 1)
  end
end
if id and (kind == 'new' or kind == 'resolved' or kind == 'reopened') then
  redis.call('RPUSH', key .. ':timeline', cjson.encode({at = event_at, kind = kind, text = ARGV[7],
                                                       flapping = flapping_now}))
  redis.call('LTRIM', key .. ':timeline', -500, -1)
end
local out = {kind = kind, flapping_now = flapping_now}
if id then
  out.incident = id
  out.count = tonumber(redis.call('HGET', key, 'count'))
  out.flips = redis.call('ZCARD', key .. ':flips')
end
local encoded = cjson.encode(out)
redis.call('SET', KEYS[3], encoded, 'EX', window)
return encoded
"""


class Incident(BaseModel):
    id: str
    fingerprint: str
    status: Literal["firing", "resolved"]
    severity: str
    title: str
    source: str
    first_seen: datetime
    last_seen: datetime
    count: int
    flapping: bool


class Change(BaseModel):
    """One line of an incident's timeline: it opened, resolved or reopened."""

    at: datetime
    kind: str
    text: str
    flapping: bool = False


class Observation(BaseModel):
    """What one alert did: `kind`, and whether flapping was recognised just now (say it once)."""

    kind: Kind
    incident: str | None = None
    count: int = 0
    flips: int = 0
    flapping_now: bool = False

    @property
    def needs_card(self) -> bool:
        return self.kind in ("new", "reopened", "resolved") or self.flapping_now


def _event_time(alert: Alert, now: datetime) -> float:
    when = (alert.ends_at if alert.status == "resolved" else alert.starts_at) or alert.received_at or now
    return when.timestamp()


def _ts(value: bytes | str) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


class IncidentStore:
    def __init__(self, client: redis.Redis, prefix: str, window_s: int, flap_threshold: int,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client, self.prefix, self.window_s, self.flap_threshold, self.now = (
            client, prefix, window_s, flap_threshold, now)
        self._observe = client.register_script(_OBSERVE)

    def observe(self, entry_id: str, alert: Alert) -> Observation:
        now = self.now()
        keys = [f"{self.prefix}incident:fp:{alert.fingerprint}", f"{self.prefix}incident:seq",
                f"{self.prefix}applied:{entry_id}"]
        args = [self.prefix, alert.status, now.timestamp(), self.window_s, self.flap_threshold, alert.severity,
                alert.summary[:300], alert.source, _event_time(alert, now), alert.fingerprint, entry_id]
        return Observation.model_validate(json.loads(self._observe(keys=keys, args=args)))

    def get(self, incident_id: str) -> Incident | None:
        raw = self.client.hgetall(f"{self.prefix}incident:{incident_id}")
        if not raw:
            return None
        d = {k.decode(): v.decode() for k, v in raw.items()}
        return Incident(id=d["id"], fingerprint=d["fingerprint"], status=d["status"], severity=d["severity"],
                        title=d["title"], source=d["source"], first_seen=_ts(d["first_seen"]),
                        last_seen=_ts(d["last_seen"]), count=int(d["count"]), flapping=d["flapping"] == "1")

    def by_fingerprint(self, fingerprint: str) -> Incident | None:
        incident_id = self.client.get(f"{self.prefix}incident:fp:{fingerprint}")
        return self.get(incident_id.decode()) if incident_id else None

    def timeline(self, incident_id: str) -> list[Change]:
        """The incident's openings, resolutions and reopenings, oldest first, each at the alert's own time."""
        rows = [json.loads(raw) for raw in self.client.lrange(f"{self.prefix}incident:{incident_id}:timeline", 0, -1)]
        return [Change(at=_ts(r["at"]), kind=r["kind"], text=r["text"], flapping=r["flapping"] == 1) for r in rows]

    def recent(self, limit: int = 20) -> list[Incident]:
        """The newest incidents, newest first."""
        top, out = self.count(), []
        for seq in range(top, max(0, top - limit * 3), -1):  # a few may be gone (flushed, expired)
            incident = self.get(f"inc-{seq}")
            if incident:
                out.append(incident)
            if len(out) == limit:
                break
        return out

    def count(self) -> int:
        seq = self.client.get(f"{self.prefix}incident:seq")
        return int(seq) if seq else 0
