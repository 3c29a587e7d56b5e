"""Learning from outcomes: which action fixed which kind of incident, counted in Redis.

- `record_once(kind, action, action_id, success)` with the verdict of an executed action's verification (kind =
  the playbook name, action = the tool, e.g. 'k8s_rollback'): success is "fixed", not "the incident resolved
  later"; each action id counts once. `record(kind, action, success)` counts without that guard (an execution
  that failed). Two counters per (kind, action), incremented atomically.
- `recommend(kind)` returns only actions with at least `recommend_min_outcomes` outcomes and at least
  `recommend_min_success` success, best first by success_rate × ln(n + 1), each with the sentence
  "based on N past incidents, k succeeded".
- `promotion(kind)`: the action that reached `promote_success` over at least `recommend_min_outcomes`
  outcomes replaces the playbook's own recommended action; it is stored in Redis (and removed when the
  action falls below the bar). `recommended_action(playbook)` is what triage proposes first.
- `failed(kind, action, at)` keeps when a verified outcome last failed (a hash `…:failed_at`, epoch seconds);
  `last_failure(kind, action)` reads it: a policy rule's "no failure within 24h" (policies/engine.py).
Thresholds come from KnowledgeSettings.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import redis
from pydantic import BaseModel

from knowledge.playbooks import Playbook
from knowledge.settings import KnowledgeSettings

EPSILON = 1e-9
COUNTED_KEEP_S = 90 * 24 * 3600  # how long an action id is remembered as counted

# KEYS: totals hash, successes hash, the action's counted marker. ARGV: action, 1|0, marker ttl
_ONCE = """
if not redis.call('SET', KEYS[3], 1, 'NX', 'EX', ARGV[3]) then return false end
return {redis.call('HINCRBY', KEYS[1], ARGV[1], 1), redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])}
"""


class OutcomesUnavailable(Exception):
    """Redis could not be reached: outcomes are neither recorded nor used."""


class ActionStats(BaseModel):
    kind: str
    action: str
    total: int
    succeeded: int

    @property
    def rate(self) -> float:
        return self.succeeded / self.total if self.total else 0.0

    @property
    def score(self) -> float:
        return self.rate * math.log(self.total + 1)

    @property
    def sentence(self) -> str:
        return f"based on {self.total} past incidents, {self.succeeded} succeeded"


class Recommendation(BaseModel):
    action: str
    source: str  # "playbook" or "outcomes"
    reason: str


class Outcomes:
    def __init__(self, client: redis.Redis, prefix: str, knowledge: KnowledgeSettings):
        self.redis, self.prefix, self.cfg = client, f"{prefix}outcomes:", knowledge
        self._once = client.register_script(_ONCE)

    def _key(self, kind: str, what: str) -> str:
        return f"{self.prefix}{kind}:{what}"

    def record(self, kind: str, action: str, success: bool) -> ActionStats:
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.hincrby(self._key(kind, "total"), action, 1)
            pipe.hincrby(self._key(kind, "ok"), action, 1 if success else 0)
            total, ok = pipe.execute()
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not record the outcome of {action} for {kind}: {e}") from None
        return ActionStats(kind=kind, action=action, total=int(total), succeeded=int(ok))

    def record_once(self, kind: str, action: str, action_id: str, success: bool) -> ActionStats | None:
        """Record one action's verdict; None if this action's was recorded already (a retried verification)."""
        keys = [self._key(kind, "total"), self._key(kind, "ok"), f"{self.prefix}counted:{action_id}"]
        try:
            out = self._once(keys=keys, args=[action, 1 if success else 0, COUNTED_KEEP_S])
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not record the outcome of {action} for {kind}: {e}") from None
        return ActionStats(kind=kind, action=action, total=int(out[0]), succeeded=int(out[1])) if out else None

    def failed(self, kind: str, action: str, at: datetime) -> None:
        """Keep `at` as the time this action last failed for this kind."""
        try:
            self.redis.hset(self._key(kind, "failed_at"), action, at.timestamp())
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not record when {action} last failed for {kind}: {e}") from None

    def last_failure(self, kind: str, action: str) -> datetime | None:
        """When this action last failed for this kind (`failed`), or None: never recorded."""
        try:
            value = self.redis.hget(self._key(kind, "failed_at"), action)
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not read when {action} last failed for {kind}: {e}") from None
        return datetime.fromtimestamp(float(value), UTC) if value is not None else None

    def stats(self, kind: str) -> list[ActionStats]:
        try:
            totals = self.redis.hgetall(self._key(kind, "total"))
            oks = self.redis.hgetall(self._key(kind, "ok"))
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not read the outcomes for {kind}: {e}") from None
        return [ActionStats(kind=kind, action=a.decode(), total=int(n), succeeded=int(oks.get(a, 0)))
                for a, n in totals.items()]

    def _qualified(self, kind: str, min_success: float) -> list[ActionStats]:
        found = [s for s in self.stats(kind)
                 if s.total >= self.cfg.recommend_min_outcomes and s.rate + EPSILON >= min_success]
        return sorted(found, key=lambda s: (-s.score, s.action))

    def recommend(self, kind: str) -> list[ActionStats]:
        """Actions worth proposing for this kind of incident, best first; empty without enough history."""
        return self._qualified(kind, self.cfg.recommend_min_success)

    def promotion(self, kind: str) -> ActionStats | None:
        """The action promoted over the playbook's recommendation, if one has earned it (kept in Redis)."""
        best = next(iter(self._qualified(kind, self.cfg.promote_success)), None)
        try:
            if best is None:
                self.redis.delete(self._key(kind, "promoted"))
            else:
                self.redis.set(self._key(kind, "promoted"), best.action)
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not store the promotion for {kind}: {e}") from None
        return best

    def promoted(self, kind: str) -> str | None:
        """The last stored promotion, without recomputing it."""
        value = self.redis.get(self._key(kind, "promoted"))
        return value.decode() if value else None

    def recommended_action(self, playbook: Playbook) -> Recommendation | None:
        """What to propose first for an incident matched to `playbook`: a promoted action, else its own."""
        best = self.promotion(playbook.name)
        if best is not None:
            return Recommendation(action=best.action, source="outcomes", reason=best.sentence)
        if playbook.recommended:
            return Recommendation(action=playbook.recommended, source="playbook",
                                  reason=f"the {playbook.name} playbook recommends it")
        return None
