"""A scale that the policy's `max_step` would refuse in one go becomes its first step, said so on the card.

An on-call engineer expects a change opsbot can run: "scale worker 30 → 25 (step 1 of 6, policy max_step 5)"
with Approve / Deny, not "30 → 4" that the policy refuses whoever clicks. The policy's limits stay as they are;
each further step is another scale, proposed by a person (chat `scale`) once the cooldown allows it.
"""

from __future__ import annotations

from math import ceil

from bot.cards import strings as S
from bot.triage.rules.base import Diagnosis
from policies.engine import PolicyEngine


def within_step(d: Diagnosis | None, engine: PolicyEngine) -> Diagnosis | None:
    """`d` with its scale cut to the first step the policy allows at once (the whole change when it fits)."""
    a = d.action if d else None
    if d is None or a is None or a.tool != "k8s_scale" or a.current is None:
        return d
    wanted, current = int(a.args["replicas"]), a.current
    step = engine.bounds(a.args["namespace"], a.args["deployment"]).max_step
    if abs(wanted - current) <= step:
        return d
    first = current - step if wanted < current else current + step
    why = a.why + S.SCALE_STEP.format(step=step, steps=ceil(abs(wanted - current) / step), first=first,
                                      current=current, wanted=wanted)
    action = a.model_copy(update={"args": {**a.args, "replicas": first}, "why": why})
    return d.model_copy(update={"action": action})
