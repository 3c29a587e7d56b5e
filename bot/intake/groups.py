"""One card per Alertmanager group: the group's first incident leads, the others are lines on its card.

Each alert is still its own incident (dedup, flapping, the timeline); only the card is shared. The lead is
chosen atomically (SET NX on the group key), every alert writes its line before it publishes, and the lines
are read again under the card's lock (`amend`), so whichever worker publishes last shows every line. When
every line is resolved the group closes: a later firing of the same group opens a new card.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import redis
from redis.commands.core import Script

from bot.cards.model import Card, GroupAlert
from bot.intake.alert import Alert


def subject(alert: Alert) -> str:
    t = alert.target
    where = "/".join(p for p in (t.namespace, t.name) if p)
    return f"{t.kind} {where}" if t.kind and t.name else where


_LEAD = """
local lead = redis.call('GET', KEYS[1])
if not lead then
  if ARGV[3] == 'resolved' then return redis.call('GET', KEYS[3]) or ARGV[1] end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[4])
  lead = ARGV[1]
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], lead, 'EX', ARGV[4])
return lead
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_CLOSE = """
for _, line in ipairs(redis.call('HVALS', KEYS[2])) do
  if string.find(line, '"status":"firing"', 1, true) then return 0 end
end
return redis.call('DEL', KEYS[1], KEYS[2]) > 0 and 1 or 0
"""


class AlertGroups:
    def __init__(self, client: redis.Redis, prefix: str, keep: timedelta = timedelta(days=30)):
        self.client, self.prefix, self.keep = client, prefix, keep
        self._lead: Script = client.register_script(_LEAD)
        self._close: Script = client.register_script(_CLOSE)
        self._release: Script = client.register_script(_RELEASE)

    def _key(self, alert: Alert) -> str | None:
        group_key = alert.raw_ids.get("group_key")
        if alert.source != "alertmanager" or not group_key:
            return None
        return f"{self.prefix}group:{hashlib.sha256(group_key.encode()).hexdigest()[:24]}"

    def lead(self, alert: Alert, incident_id: str) -> str:
        """The incident whose card shows this alert (its own when it is the group's first), its line written.
        A resolution arriving after its group closed goes to the card it was on, and writes nothing."""
        key = self._key(alert)
        if key is None:
            return incident_id
        line = GroupAlert(incident_id=incident_id, name=alert.name, subject=subject(alert), status=alert.status,
                          since=alert.starts_at)
        keys = [f"{key}:lead", f"{key}:alerts", f"{self.prefix}group:of:{incident_id}"]
        lead = self._lead(keys=keys, args=[incident_id, line.model_dump_json(), alert.status,
                                           int(self.keep.total_seconds())])
        return lead.decode() if isinstance(lead, bytes) else str(lead)

    def card_of(self, incident_id: str) -> str:
        """The incident whose card shows `incident_id`: the lead of its group, or itself."""
        lead = self.client.get(f"{self.prefix}group:of:{incident_id}")
        return lead.decode() if lead else incident_id

    def lines(self, alert: Alert) -> list[GroupAlert]:
        key = self._key(alert)
        raw = self.client.hgetall(f"{key}:alerts") if key else {}
        lines = [GroupAlert.model_validate_json(v) for v in raw.values()]
        return sorted(lines, key=lambda g: (g.status != "firing", g.since is None, g.since, g.incident_id))

    def amend(self, alert: Alert):  # -> Callable[[Card], Card], run under the card's lock
        def amended(card: Card) -> Card:
            lines = self.lines(alert)
            if len(lines) < 2:
                return card
            status = "firing" if any(g.status == "firing" for g in lines) else "resolved"
            shared = alert.common_labels or card.common_labels  # every notification carries the whole group
            return card.model_copy(update={"group": lines, "status": status, "common_labels": shared,
                                           "resolved_at": (card.resolved_at or datetime.now(UTC))
                                           if status == "resolved" else None})
        return amended

    def release(self, alert: Alert, incident_id: str) -> None:
        """`incident_id` no longer leads its group (its card never came): the next alert of the group will."""
        key = self._key(alert)
        if key is not None:
            self._release(keys=[f"{key}:lead"], args=[incident_id])

    def close_if_resolved(self, alert: Alert) -> bool:
        """Forget the group once all its alerts resolved (its card keeps the lines); True if it closed."""
        key = self._key(alert)
        return key is not None and self._close(keys=[f"{key}:lead", f"{key}:alerts"]) == 1
