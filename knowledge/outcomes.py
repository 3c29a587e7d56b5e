"""Learning from outcomes: which action fixed which kind of incident, counted in Redis.

- `record_once(kind, action, action_id, success, incident)` with the verdict of an executed action's verification
  (kind = the playbook name, action = the tool, e.g. 'k8s_rollback'): success is "fixed", not "the incident
  resolved later"; each action id counts once. `record(kind, action, success)` counts without that guard (an
  execution that failed). Two counters per (kind, action), incremented atomically.
- `mark(incident, kind, actions, mark)`: people's feedback (knowledge/feedback.py). On a false alarm or
  a wrong cause the incident's verdicts are kept apart: taken out of the counts (and one that arrives later is not
  counted), put back if the latest mark becomes another; per incident, so marking twice changes nothing. A wrong
  cause also holds each of the incident's actions back from `recommend(kind)` and promotion while that is the
  incident's latest mark, until the first of: the hold's age `wrong_cause_hold` (KnowledgeSettings, 14 days)
  has passed since the mark, or a fix by that action for that kind is verified and counted after it (another
  incident's: the marked incident's own verdicts are kept apart). The marks themselves are not kept here: the audit log holds every one (who, when, what),
  and the false-alarm rate of `opsbot report` is read from it (bot/intake/figures.py).
- `recommend(kind)` returns only actions with at least `recommend_min_outcomes` outcomes and at least
  `recommend_min_success` success, and none held back by a wrong-cause mark, best first by success_rate ×
  ln(n + 1), each with the sentence "based on N past incidents, k succeeded".
- `promotion(kind)`: the action that reached `promote_success` over at least `recommend_min_outcomes`
  outcomes replaces the playbook's own recommended action; it is stored in Redis (and removed when the
  action falls below the bar). `recommended_action(playbook)` is what triage proposes first.
- `failed(kind, action, at)` keeps when a verified outcome last failed (a hash `…:failed_at`, epoch seconds);
  `last_failure(kind, action)` reads it: a policy rule's "no failure within 24h" (policies/engine.py).
Thresholds come from KnowledgeSettings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from pydantic import BaseModel

from knowledge.feedback import NOT_COUNTED, Mark
from knowledge.settings import KnowledgeSettings

if TYPE_CHECKING:  # the door keeps outcomes: loading it needs no playbook model
    from knowledge.playbooks import Playbook

EPSILON = 1e-9
COUNTED_KEEP_S = 90 * 24 * 3600  # how long an action id is remembered as counted

# KEYS: totals hash, successes hash, the action's counted marker [, the incident's verdicts, its kept-apart flag].
# ARGV: action, 1|0, marker ttl, action id, kind. {-1, -1}: recorded with its incident, kept apart, not counted.
_ONCE = """
if not redis.call('SET', KEYS[3], 1, 'NX', 'EX', ARGV[3]) then return false end
if #KEYS > 3 then
  redis.call('HSET', KEYS[4], ARGV[4], ARGV[5] .. '\t' .. ARGV[1] .. '\t' .. ARGV[2])
  redis.call('EXPIRE', KEYS[4], ARGV[3])
  if redis.call('EXISTS', KEYS[5]) == 1 then return {-1, -1} end
end
return {redis.call('HINCRBY', KEYS[1], ARGV[1], 1), redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2])}
"""

# KEYS: the incident's verdicts, its kept-apart flag. ARGV: 1 keep apart | 0 count, key prefix, flag ttl.
# Moves the incident's verdicts out of (or back into) the counts once per change of state; how many it moved.
_APART = """
local want = ARGV[1] == '1'
if want == (redis.call('EXISTS', KEYS[2]) == 1) then return 0 end
if want then redis.call('SET', KEYS[2], 1, 'EX', ARGV[3]) else redis.call('DEL', KEYS[2]) end
local sign = want and -1 or 1
local v = redis.call('HGETALL', KEYS[1])
for i = 2, #v, 2 do
  local kind, action, ok = string.match(v[i], '^(.-)\t(.-)\t(%d)$')
  redis.call('HINCRBY', ARGV[2] .. kind .. ':total', action, sign)
  redis.call('HINCRBY', ARGV[2] .. kind .. ':ok', action, sign * tonumber(ok))
end
return #v / 2
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
    def __init__(self, client: redis.Redis, prefix: str, knowledge: KnowledgeSettings,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        """`now`: the clock the wrong-cause holds' ends are measured on."""
        self.redis, self.prefix, self.cfg, self.now = client, f"{prefix}outcomes:", knowledge, now
        self._once = client.register_script(_ONCE)
        self._apart = client.register_script(_APART)

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

    def _incident(self, incident: str, what: str) -> str:
        return f"{self.prefix}incident:{incident}:{what}"

    def record_once(self, kind: str, action: str, action_id: str, success: bool,
                    incident: str | None = None) -> ActionStats | None:
        """Record one action's verdict, filed with its `incident` when given (so feedback on the incident can keep
        it apart); None if not counted: recorded already (a retried verification), or its incident is marked a
        false alarm or a wrong cause."""
        keys = [self._key(kind, "total"), self._key(kind, "ok"), f"{self.prefix}counted:{action_id}"]
        if incident:
            keys += [self._incident(incident, "verdicts"), self._incident(incident, "apart")]
        try:
            out = self._once(keys=keys, args=[action, 1 if success else 0, COUNTED_KEEP_S, action_id, kind])
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not record the outcome of {action} for {kind}: {e}") from None
        if not out or int(out[0]) < 0:
            return None
        if success:  # a fix verified after a wrong-cause mark: that mark's doubt about the action is answered
            self._lift(kind, action)
        return ActionStats(kind=kind, action=action, total=int(out[0]), succeeded=int(out[1]))

    def _lift(self, kind: str, action: str) -> None:
        try:
            self.redis.delete(self._holds(kind, action))
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not lift the holds on {action} for {kind}: {e}") from None

    def mark(self, incident: str, kind: str, actions: Iterable[str], mark: Mark) -> None:
        """People's latest mark on `incident` (of `kind`, whose card proposed `actions`), applied to what is
        learned: its verdicts kept apart or counted, its actions held back for the kind or not. Marking the same
        again changes nothing; a new mark undoes what the previous one did."""
        held = self._incident(incident, "held")
        try:
            before = self.redis.get(held)
            for line in [before.decode()] if before else []:  # what a previous wrong-cause mark held back
                was_kind, *was = line.split("\t")
                for action in was:
                    self.redis.zrem(self._holds(was_kind, action), incident)
                self.redis.delete(held)
            if mark == "wrong_cause":
                names, now, hold = sorted(set(actions)), self.now().timestamp(), self.cfg.wrong_cause_hold
                self.redis.set(held, "\t".join([kind, *names]), ex=COUNTED_KEEP_S)
                for action in names:
                    pipe = self.redis.pipeline(transaction=True)
                    pipe.zremrangebyscore(self._holds(kind, action), "-inf", now)  # holds that ended: gone
                    pipe.zadd(self._holds(kind, action), {incident: now + hold.total_seconds()})
                    pipe.expire(self._holds(kind, action), max(1, int(hold.total_seconds())))
                    pipe.execute()
            self._apart(keys=[self._incident(incident, "verdicts"), self._incident(incident, "apart")],
                        args=[1 if mark in NOT_COUNTED else 0, self.prefix, COUNTED_KEEP_S])
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not record the feedback on {incident}: {e}") from None

    def _holds(self, kind: str, action: str) -> str:
        """The wrong-cause holds on an action for a kind: incident → when its hold ends (epoch seconds)."""
        return self._key(kind, f"holds:{action}")

    def held(self, kind: str, actions: Iterable[str]) -> set[str]:
        """Which of `actions` a wrong-cause mark holds back for this kind now (a hold not yet ended or lifted)."""
        names, now = list(actions), self.now().timestamp()
        try:
            pipe = self.redis.pipeline(transaction=False)
            for action in names:
                pipe.zcount(self._holds(kind, action), f"({now}", "+inf")
            return {a for a, n in zip(names, pipe.execute(), strict=True) if n}
        except redis.RedisError as e:
            raise OutcomesUnavailable(f"could not read the feedback on {kind}: {e}") from None

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
        held = self.held(kind, [s.action for s in found])
        return sorted((s for s in found if s.action not in held), key=lambda s: (-s.score, s.action))

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
        """What to propose first for an incident matched to `playbook`: a promoted action, else its own unless a
        wrong-cause mark holds it back."""
        best = self.promotion(playbook.name)
        if best is not None:
            return Recommendation(action=best.action, source="outcomes", reason=best.sentence)
        if playbook.recommended and not self.held(playbook.name, [playbook.recommended]):
            return Recommendation(action=playbook.recommended, source="playbook",
                                  reason=f"the {playbook.name} playbook recommends it")
        return None
