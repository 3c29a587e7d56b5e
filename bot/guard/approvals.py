"""Pending actions and their approvals in Redis: created once, approved or denied by identities, claimed once.

Every state change is one Lua script, so concurrent clicks on several replicas see one consistent order:
exactly one approval claims the action (pending → claimed), and only a claimed action is executed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import redis
import structlog
from pydantic import BaseModel, Field

from bot import messages
from policies.engine import Decision, Execution
from tools.base import Preview

log = structlog.get_logger(__name__)

State = Literal["pending", "claimed", "executed", "failed", "refused", "denied", "expired"]


class ApprovalsUnavailable(Exception):
    """Redis could not be reached: no mutation may run (fail closed)."""


class PendingAction(BaseModel):
    id: str
    tool: str
    args: dict[str, Any]
    preview: Preview
    decision: Decision
    requester: str
    via: str = Field("cli", description="how it was proposed: cli, chat, agent (the model, the change the "
                     "requester's question asked for), model (the model on its own: the question did not ask "
                     "for it), triage, or verify (the undo of an action verification found had not fixed it)")
    incident: str | None = None
    failure_mode: str | None = Field(None, description="the playbook triage's diagnosis named, for a rule that "
                                     "allows by track record (policies/earned.py)")
    created_at: datetime
    expires_at: datetime
    state: State = "pending"
    approvals: list[str] = []
    decided_by: str | None = None
    outcome: str | None = None


# KEYS: action hash, approvers list, pending zset. ARGV: identity, now (epoch s)
_APPROVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if state ~= 'pending' then return {'decided', state} end
if tonumber(ARGV[2]) >= tonumber(redis.call('HGET', KEYS[1], 'expires_ts')) then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  redis.call('ZREM', KEYS[3], KEYS[1])
  return {'expired'}
end
if redis.call('LPOS', KEYS[2], ARGV[1]) then return {'duplicate'} end
redis.call('RPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[2]) >= tonumber(redis.call('HGET', KEYS[1], 'needed')) then
  redis.call('HSET', KEYS[1], 'state', 'claimed', 'decided_by', ARGV[1])
  redis.call('ZREM', KEYS[3], KEYS[1])
  return {'claimed'}
end
return {'recorded'}
"""

# KEYS: action hash, pending zset. ARGV: from-state, to-state, identity-or-empty, outcome, now (0: no expiry check)
_TRANSITION = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if state ~= ARGV[1] then return {'decided', state} end
if tonumber(ARGV[5]) > 0 and tonumber(ARGV[5]) >= tonumber(redis.call('HGET', KEYS[1], 'expires_ts')) then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  redis.call('ZREM', KEYS[2], KEYS[1])
  return {'expired'}
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'outcome', ARGV[4])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'decided_by', ARGV[3]) end
redis.call('ZREM', KEYS[2], KEYS[1])
return {'ok'}
"""


def proposer(action: PendingAction) -> str:
    """Who put the action forward, from what the action recorded (`via`): a person; opsbot on a person's question
    that asked for this change ("agent"); the model on its own, on a question that did not ("model"); triage."""
    if action.via == "agent":
        return messages.PROPOSED_AS_ASKED.format(requester=action.requester)
    if action.via == "model":
        return messages.PROPOSED_BY_MODEL.format(requester=action.requester)
    if action.via == "triage":
        return messages.PROPOSED_BY_TRIAGE
    if action.via == "verify":
        return messages.PROPOSED_AS_UNDO
    return messages.REQUESTED_BY.format(requester=action.requester)


class ApprovalStore:
    def __init__(self, client: redis.Redis, prefix: str, keep: timedelta = timedelta(days=30)):
        self.client, self.prefix, self.keep = client, prefix, keep
        self._approve = client.register_script(_APPROVE)
        self._transition = client.register_script(_TRANSITION)

    def _key(self, action_id: str) -> str:
        return f"{self.prefix}action:{action_id}"

    @property
    def _pending(self) -> str:
        return f"{self.prefix}actions:pending"

    @property
    def _ledger(self) -> str:
        return f"{self.prefix}executions"

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except redis.RedisError as e:
            log.error("approvals_redis_failed", error=f"{type(e).__name__}: {e}")  # the address: logs only
            raise ApprovalsUnavailable("Redis is unreachable; no change was made") from None

    def create(self, tool: str, args: dict[str, Any], preview: Preview, decision: Decision, requester: str,
               incident: str | None, now: datetime, via: str = "cli",
               failure_mode: str | None = None) -> PendingAction:
        expires = decision.approvers.expires if decision.approvers else timedelta(minutes=5)
        action = PendingAction(
            id=secrets.token_hex(4), tool=tool, args=args, preview=preview, decision=decision,
            requester=requester, via=via, incident=incident, failure_mode=failure_mode, created_at=now,
            expires_at=now + expires,
        )
        key = self._key(action.id)
        needed = decision.approvers.count if decision.approvers else 0
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(key, mapping={
            "body": action.model_dump_json(exclude={"state", "approvals", "decided_by", "outcome"}),
            "state": "pending", "expires_ts": action.expires_at.timestamp(), "needed": needed,
        })
        pipe.expire(key, self.keep)
        pipe.zadd(self._pending, {key: action.expires_at.timestamp()})
        if incident is not None:
            pipe.set(self._proposal_key(incident, tool, args), action.id, ex=self.keep)
        self._call(pipe.execute)
        return action

    def _proposal_key(self, incident: str, tool: str, args: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps([tool, args], sort_keys=True, default=str).encode()).hexdigest()[:24]
        return f"{self.prefix}proposal:{incident}:{digest}"

    def proposal(self, incident: str, tool: str, args: dict[str, Any]) -> PendingAction | None:
        """The latest action proposed for this incident with this tool and these arguments, if any."""
        held = self._call(self.client.get, self._proposal_key(incident, tool, args))
        return self.get(held.decode()) if held else None

    def get(self, action_id: str) -> PendingAction | None:
        key = self._key(action_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.lrange(f"{key}:approvers", 0, -1)
        raw, approvers = self._call(pipe.execute)
        if not raw:
            return None
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        return PendingAction(
            **json.loads(fields["body"]), state=fields["state"], approvals=[a.decode() for a in approvers],
            decided_by=fields.get("decided_by"), outcome=fields.get("outcome"),
        )

    def approve(self, action_id: str, identity: str, now: datetime) -> list[str]:
        """['claimed'] for the approval that completes the action (exactly one), else why not."""
        key = self._key(action_id)
        out = self._call(self._approve, keys=[key, f"{key}:approvers", self._pending], args=[identity, now.timestamp()])
        if out and out[0] == b"recorded":
            self._call(self.client.expire, f"{key}:approvers", self.keep)
        return [x.decode() for x in out]

    def transition(self, action_id: str, frm: State, to: State, identity: str = "", outcome: str = "",
                   now: datetime | None = None) -> list[str]:
        """Move an action from one state to another atomically; ['ok'] or why not."""
        out = self._call(self._transition, keys=[self._key(action_id), self._pending],
                         args=[frm, to, identity, outcome, now.timestamp() if now else 0])
        return [x.decode() for x in out]

    def due(self, now: datetime) -> list[str]:
        """Ids of pending actions whose expiry has passed."""
        keys = self._call(self.client.zrangebyscore, self._pending, "-inf", now.timestamp())
        return [k.decode().rsplit(":", 1)[1] for k in keys]

    def pending(self) -> list[str]:
        return [k.decode().rsplit(":", 1)[1] for k in self._call(self.client.zrange, self._pending, 0, -1)]

    def record_execution(self, action: PendingAction, at: datetime) -> None:
        member = json.dumps({"id": action.id, "tool": action.tool, "target": action.preview.target})
        self._call(self.client.zadd, self._ledger, {member: at.timestamp()})

    def executions(self, now: datetime, window: timedelta = timedelta(hours=2)) -> list[Execution]:
        """Recent executions, for cooldowns and hourly budgets."""
        rows = self._call(self.client.zrangebyscore, self._ledger, (now - window).timestamp(), "+inf", withscores=True)
        out = []
        for member, score in rows:
            m = json.loads(member)
            out.append(Execution(m["tool"], m["target"], datetime.fromtimestamp(score, UTC)))
        return out
