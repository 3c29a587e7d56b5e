"""The moments of an incident no other store keeps, each recorded once where it happens: its card first posted
(`carded`), each executed action's verdict (`verdict:<action id>`, with the verdict's words and whether it fixed
it), and that its figures were observed and its postmortem posted (so a replayed resolution does neither twice).

Everything else an incident's figures need is recorded already: its alert's start and end (the incident's
timeline, bot/intake/incidents.py), and what was proposed, acknowledged, approved and executed, by whom (the
audit log, bot/guard/audit.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import redis
from pydantic import BaseModel


class Mark(BaseModel):
    at: datetime
    text: str = ""
    fixed: bool | None = None


class Moments:
    def __init__(self, client: redis.Redis, prefix: str, keep: timedelta = timedelta(days=30)):
        self.client, self.prefix, self.keep = client, prefix, keep

    def _key(self, incident_id: str) -> str:
        return f"{self.prefix}incident:{incident_id}:moments"

    def mark(self, incident_id: str, what: str, at: datetime, text: str = "", fixed: bool | None = None) -> bool:
        """Record `what` happened at `at`, unless it was recorded before; whether this call recorded it."""
        value = json.dumps({"at": at.timestamp(), "text": text, "fixed": fixed})
        pipe = self.client.pipeline(transaction=True)
        pipe.hsetnx(self._key(incident_id), what, value)
        pipe.expire(self._key(incident_id), self.keep)
        return bool(pipe.execute()[0])

    def of(self, incident_id: str) -> dict[str, Mark]:
        out = {}
        for k, v in self.client.hgetall(self._key(incident_id)).items():
            d = json.loads(v)
            out[k.decode()] = Mark(at=datetime.fromtimestamp(d["at"], UTC), text=d["text"], fixed=d["fixed"])
        return out
