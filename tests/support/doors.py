"""Doors onto the sandbox for tests: isolated Redis prefixes, a hand-moved clock, the shipped scenario."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from bot.backends import Backends
from bot.guard.door import Caller, Door
from bot.settings import Settings
from bot.wiring import build_door
from tools.base import Status
from tools.context import ToolContext

SCENARIO = "crashloop-missing-env"
OPERATOR = Caller(identity="slack:U0OPERATOR", via="chat", severity="P1", incident="inc-1")


def make_door(settings: Settings) -> Door:
    """A door onto the given backends with its own audit stream, so each test reads only its own records."""
    return build_door(settings, prefix=f"test:{uuid.uuid4().hex}:")


class Clock:
    """A clock the test moves by hand: expiries and cooldowns without waiting."""

    def __init__(self) -> None:
        self.t = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta)


def door_with_clock(settings: Settings, clock: Clock, prefix: str | None = None) -> Door:
    """A door whose gate reads time from `clock`; doors with the same prefix share approvals (replicas)."""
    ctx = ToolContext(settings, Backends(settings), now=clock)
    return build_door(settings, prefix=prefix or f"test:{uuid.uuid4().hex}:", ctx=ctx)


def propose_scale(door: Door, to: int = 5, caller: Caller = OPERATOR) -> str:
    """Ask to scale shop/checkout; the policy makes it a pending action, whose id this returns."""
    r = door.run("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": to}, caller)
    assert r.status == Status.approval_required, r.error
    assert r.notice and r.notice.startswith(f"pending approval #{r.data['action_id']}")
    return r.data["action_id"]


def restart_approved(door: Door, clock: Clock, ns: str, name: str, approver: str = "slack:U0LEAD") -> None:
    """An operator's `restart NAME`, approved and executed; the clock then moves past the target's cooldowns."""
    r = door.run("k8s_rollout_restart", {"namespace": ns, "deployment": name}, OPERATOR)
    assert r.status == Status.approval_required, r.error
    done = door.gate.decide(r.data["action_id"], approver, approve=True)
    assert done.ok and done.message.startswith("done: restart every pod"), done.message
    clock.advance(minutes=20)
