"""What an executed action is watched for, kept in Redis: its target's state (before it ran and at each look), the
deadline, and the verdict once reached; so a verification in flight survives a restart and is picked up by
whichever opsbot process ticks next (bot/guard/verify.py decides; this module only reads and stores).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import redis
from pydantic import BaseModel

from tools.base import Status, ToolResult

Read = Callable[[str, dict[str, Any]], ToolResult]  # a read tool through the door, as VERIFIER
VERIFIER = "opsbot:verify"  # the identity opsbot's own looks after an execution are audited under

# the verb a verdict names the action by; only these actions are watched
VERBS = {"k8s_rollback": "rollback", "k8s_scale": "scale", "k8s_rollout_restart": "restart",
         "k8s_delete_pod": "pod deletion"}


class Unreadable(Exception):
    """The target could not be read (its backend down, the deployment gone): the look is tried again."""


class Snapshot(BaseModel):
    """A deployment's state as a person judges a fix: ready of desired, rolled out, its pods' statuses and restarts."""

    desired: int
    ready: int
    rolled_out: bool
    revision: int | None = None
    statuses: dict[str, int] = {}
    restarts: dict[str, int] = {}

    @property
    def healthy(self) -> bool:
        return self.rolled_out and self.ready >= self.desired and set(self.statuses) <= {"Running"}

    def restarted_since(self, earlier: Snapshot | None) -> bool:
        """A pod seen both times has restarted in between."""
        return earlier is not None and any(n > earlier.restarts.get(pod, n) for pod, n in self.restarts.items())

    @property
    def worst(self) -> str | None:
        """The most common status of its pods that is not Running, e.g. CrashLoopBackOff."""
        bad = Counter({s: n for s, n in self.statuses.items() if s != "Running"})
        return bad.most_common(1)[0][0] if bad else None

    def words(self) -> str:
        """'3/3 ready', or the worst status and readiness: '3/3 CrashLoopBackOff, 0/3 ready'."""
        if self.worst is None:
            return f"{self.ready}/{self.desired} ready"
        return (f"{self.statuses[self.worst]}/{sum(self.statuses.values())} {self.worst}, "
                f"{self.ready}/{self.desired} ready")


def observe(read: Read, namespace: str, deployment: str) -> Snapshot:
    """The deployment's rollout and its pods, through the door's read tools; Unreadable when they fail."""
    d = read("k8s_describe", {"namespace": namespace, "kind": "Deployment", "name": deployment})
    if d.status != Status.success or not isinstance(d.data, dict):
        raise Unreadable(d.error or f"deployment {namespace}/{deployment}: {d.status.value}")
    p = read("k8s_list", {"kind": "Pod", "namespace": namespace, "deployment": deployment})
    if p.status == Status.error:
        raise Unreadable(p.error or f"the pods of {namespace}/{deployment} could not be listed")
    pods = p.data.get("pods", []) if p.status == Status.success and isinstance(p.data, dict) else []
    r = d.data["replicas"]
    return Snapshot(desired=r["desired"], ready=r["ready"], rolled_out=bool(d.data["healthy"]),
                    revision=d.data.get("revision"), statuses=dict(Counter(row["status"] for row in pods)),
                    restarts={row["name"]: int(row["restarts"]) for row in pods})


def deployment_of(tool: str, preview: Any) -> str | None:
    """The deployment an action's effect shows on: its own, or the owner of the deleted pod (`name-<hash>`)."""
    if preview.deployment:
        return preview.deployment
    owner = (preview.current or {}).get("owner") or ""
    if tool == "k8s_delete_pod" and owner.startswith("ReplicaSet/"):
        return owner.removeprefix("ReplicaSet/").rsplit("-", 1)[0]
    return None


class Watch(BaseModel):
    """One executed action under watch."""

    action_id: str
    tool: str
    summary: str
    namespace: str
    deployment: str
    cluster: str | None = None  # the cluster it ran on (kubernetes.clusters); None: the default one
    incident: str | None = None
    executed_at: datetime
    deadline: datetime
    before: Snapshot | None = None
    last: Snapshot | None = None
    verdict: str | None = None
    fixed: bool | None = None

    @property
    def verb(self) -> str:
        return VERBS[self.tool]


# KEYS: due zset. ARGV: member, now, next. Claims a due watch for one process until `next`.
_CLAIM = """
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""


class Watches:
    def __init__(self, client: redis.Redis, prefix: str, keep: timedelta = timedelta(days=30)):
        self.client, self.prefix, self.keep = client, prefix, keep
        self._claim = client.register_script(_CLAIM)

    @property
    def _due(self) -> str:
        return f"{self.prefix}verify:due"

    def _key(self, action_id: str) -> str:
        return f"{self.prefix}verify:{action_id}"

    def begin(self, watch: Watch) -> None:
        """Watch from now: the first look is due at once."""
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self._key(watch.action_id), watch.model_dump_json(), ex=self.keep)
        pipe.zadd(self._due, {watch.action_id: watch.executed_at.timestamp()})
        if watch.incident:
            pipe.sadd(self._of(watch.incident), watch.action_id)
            pipe.expire(self._of(watch.incident), self.keep)
        pipe.execute()

    def _of(self, incident: str) -> str:
        return f"{self.prefix}verify:incident:{incident}"

    def hurry(self, incident: str) -> None:
        """The incident's alert changed (it resolved): its actions still watched are due for a look at once."""
        for member in self.client.smembers(self._of(incident)):
            self.client.zadd(self._due, {member.decode(): 0}, xx=True)

    def get(self, action_id: str) -> Watch | None:
        raw = self.client.get(self._key(action_id))
        return Watch.model_validate_json(raw) if raw else None

    def save(self, watch: Watch) -> None:
        self.client.set(self._key(watch.action_id), watch.model_dump_json(), ex=self.keep)

    def claim_due(self, now: datetime, every: timedelta) -> list[str]:
        """The watches due for a look, each claimed by this process until `now + every` (one looker at a time)."""
        due = [m.decode() for m in self.client.zrangebyscore(self._due, "-inf", now.timestamp())]
        nxt = (now + every).timestamp()
        return [m for m in due if self._claim(keys=[self._due], args=[m, now.timestamp(), nxt]) == 1]

    def done(self, action_id: str) -> None:
        """The verdict is shown: nothing more to look at."""
        self.client.zrem(self._due, action_id)

    def watching(self) -> list[str]:
        return [m.decode() for m in self.client.zrange(self._due, 0, -1)]
