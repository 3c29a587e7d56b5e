"""A fix verified on an incident people marked a false alarm is not a success of its kind: marked before the
verdict or after it, the rollback that "fixed" a false alarm leaves the track record as it was; marked right cause
later, it counts again. Through the real verification (the Kubernetes emulator, Redis) and the card's thread."""

from __future__ import annotations

from typing import Any

from bot.guard.feedback import FeedbackDesk
from bot.settings import Settings
from tests.support.verifying import CHECKOUT, loop


def test_a_rollback_verified_on_a_false_alarm_is_not_counted_as_a_fix(mutable_settings: Settings,
                                                                    chats: dict[str, Any]) -> None:
    lp = loop(mutable_settings, chats)
    desk = FeedbackDesk(lp.door, lp.store, lp.publisher, lp.outcomes)
    rollback = lp.incident("k8s_rollback", CHECKOUT)
    lp.approve(rollback, "slack:U0LEAD")
    assert lp.approve(rollback, "slack:U0ADMIN").startswith("done: roll back")
    assert desk.mark("inc-1", "slack:U0OPERATOR", "false_alarm").ok  # before the verdict

    lp.clock.advance(minutes=1)
    lp.publisher.edit("inc-1", lambda c: c.model_copy(update={"status": "resolved", "resolved_at": lp.clock()}))
    lp.clock.advance(minutes=1)
    assert lp.verifier.tick() == [rollback]
    assert "fixed" in (lp.store.get("inc-1").actions[0].verdict or "")
    assert [(s.action, s.total, s.succeeded) for s in lp.outcomes.stats("crashloopbackoff")] in ([], [
        ("k8s_rollback", 0, 0)]), "a false alarm's fix is no fix"

    assert desk.mark("inc-1", "slack:U0OPERATOR", "right_cause").ok  # a second look: it was real after all
    [stats] = lp.outcomes.stats("crashloopbackoff")
    assert (stats.action, stats.total, stats.succeeded) == ("k8s_rollback", 1, 1)
    assert desk.mark("inc-1", "slack:U0LEAD", "false_alarm").ok  # after the verdict: taken out again, once
    assert desk.mark("inc-1", "slack:U0ADMIN", "false_alarm").ok
    [stats] = lp.outcomes.stats("crashloopbackoff")
    assert (stats.total, stats.succeeded) == (0, 0)
