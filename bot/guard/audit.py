"""The append-only audit log: one Redis Stream entry per tool call, decision, approval and execution."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import redis
import structlog
from pydantic import BaseModel, Field

log = structlog.get_logger(__name__)


class AuditUnavailable(Exception):
    """The audit log could not be written or read (Redis is down or refused)."""


class AuditRecord(BaseModel):
    at: datetime
    kind: str = Field(description="tool_call, decision, approval, denial, expiry, execution")
    identity: str
    action: str = Field(description="the tool, or the approval verb")
    target: str = ""
    status: str
    summary: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    duration_ms: float | None = None
    incident: str | None = None
    id: str | None = None


class AuditLog:
    """Stream entries are never edited or deleted by opsbot; stream ids are their time order."""

    def __init__(self, client: redis.Redis, key: str):
        self.client, self.key = client, key

    def append(self, record: AuditRecord) -> str:
        fields = {"json": record.model_dump_json(exclude={"id"})}
        try:
            return self.client.xadd(self.key, fields).decode()
        except redis.RedisError as e:
            log.error("audit_redis_failed", error=f"{type(e).__name__}: {e}")  # the address: logs only
            raise AuditUnavailable("could not write the audit log: Redis is unreachable") from None

    def query(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        identity: str | None = None,
        target: str | None = None,
        action: str | None = None,
        limit: int = 1000,
        incident: str | None = None,
    ) -> list[AuditRecord]:
        """Records in time order, filtered by time range, identity, target (substring), action and incident."""
        lo = str(int(since.timestamp() * 1000)) if since else "-"
        hi = str(int(until.timestamp() * 1000)) if until else "+"
        out: list[AuditRecord] = []
        for record in self._scan(lo, hi):
            if identity and record.identity != identity:
                continue
            if action and record.action != action:
                continue
            if target and target not in record.target:
                continue
            if incident and record.incident != incident:
                continue
            out.append(record)
            if len(out) >= limit:
                break
        return out

    def _scan(self, lo: str, hi: str, batch: int = 500) -> Iterator[AuditRecord]:
        while True:
            try:
                entries = self.client.xrange(self.key, lo, hi, count=batch)
            except redis.RedisError as e:
                log.error("audit_redis_failed", error=f"{type(e).__name__}: {e}")
                raise AuditUnavailable("could not read the audit log: Redis is unreachable") from None
            for entry_id, fields in entries:
                yield AuditRecord(**json.loads(fields[b"json"]), id=entry_id.decode())
            if len(entries) < batch:
                return
            lo = "(" + entries[-1][0].decode()
