"""The append-only audit log: one Redis Stream entry per tool call, decision, approval and execution."""

from __future__ import annotations

import json
import re
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


# the kind segment of targets filed as namespace/kind/name, as the gate and the tools write them
_KINDS = frozenset({"pod", "deployment", "statefulset", "daemonset", "replicaset", "job", "cronjob", "service",
                    "configmap", "secret", "node", "ingress", "persistentvolumeclaim", "horizontalpodautoscaler"})


def _pod_of(pod: str, workload: str) -> bool:
    """A pod's name as its controller makes it: deployment-HASH-xxxxx, daemonset/job-xxxxx, statefulset-N."""
    return re.fullmatch(rf"{re.escape(workload)}-(?:[a-z0-9]{{1,10}}-)?[a-z0-9]{{5}}|{re.escape(workload)}-\d+",
                        pod) is not None


def target_matches(wanted: str, filed: str) -> bool:
    """Whether a record filed under `filed` is about `wanted`, whatever form either takes: `shop/cart`,
    `shop/deployment/cart` and `cart` all find `shop/cart` (a tool call), `shop/deployment/cart` (a decision,
    approval or execution) and the workload's pods (`shop/pod/cart-7d9f8b6c5-x2x4z`); a kind that is given must
    agree with a filed kind other than a pod's; a single word also finds everything in a namespace of that name.
    Case does not matter."""
    w, f = wanted.strip().strip("/").lower().split("/"), filed.lower().split("/")
    if not w[-1] or len(w) > 3:
        return False
    namespace, kind, name = (w[0] if len(w) > 1 else None), (w[1] if len(w) == 3 else None), w[-1]
    if namespace is not None and f[0] != namespace:
        return False
    if namespace is None and f[0] == name:
        return True  # a single word may name the namespace: everything filed in it
    rest = f[1:]
    filed_kind = next((part for part in rest if part in _KINDS), None)
    if kind and filed_kind and filed_kind not in (kind, "pod"):
        return False
    return any(part == name or _pod_of(part, name) for part in rest)


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
        """Records in time order, filtered by time range, identity, target (`target_matches`), action and
        incident."""
        lo = str(int(since.timestamp() * 1000)) if since else "-"
        hi = str(int(until.timestamp() * 1000)) if until else "+"
        out: list[AuditRecord] = []
        for record in self._scan(lo, hi):
            if identity and record.identity != identity:
                continue
            if action and record.action != action:
                continue
            if target and not target_matches(target, record.target):
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
