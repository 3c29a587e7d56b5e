"""After an approved action runs, opsbot watches the deployment and the incident's alert and says on the card and in
its thread whether it fixed it; a fix that did not work gets its undo proposed (a pending action with buttons, never
run by itself), and the verdict, not the incident resolving later, is what outcome learning counts. The test's clock
moves; each tick decides from the cluster (the Kubernetes emulator, changed by the real execution) and Redis, so a
verification in flight is finished by the next process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.cards import strings as S
from bot.cards.model import Card
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.chat.frontends.decision import Decisions
from bot.chat.frontends.slack import SlackFrontend
from bot.guard.verify import judge
from bot.guard.watch import Snapshot, Watch
from bot.intake.pipeline import build_pipeline
from bot.settings import Settings, SlackSettings
from tests.support.alerting import wait_for
from tests.support.chatkit import replicas, served
from tests.support.doors import Clock
from tests.support.slack_workspace import CHANNEL, SECRET, Workspace, card_text
from tests.support.verifying import CHECKOUT, approvals, loop, tg_card, thread


def test_a_rollback_that_fixed_it_says_so_once_the_alert_resolves_and_counts_as_a_success(
        mutable_settings: Settings, chats: dict[str, Any]) -> None:
    lp = loop(mutable_settings, chats)
    rollback = lp.incident("k8s_rollback", CHECKOUT)
    lp.approve(rollback, "slack:U0LEAD")
    assert lp.approve(rollback, "slack:U0ADMIN").startswith("done: roll back")

    assert lp.verifier.tick() == [], "3/3 ready at once, but the alert still fires: no verdict yet"
    lp.clock.advance(minutes=1)
    resolved_at = lp.clock()
    lp.publisher.edit("inc-1", lambda c: c.model_copy(update={"status": "resolved", "resolved_at": resolved_at}))
    lp.clock.advance(minutes=1)
    assert lp.verifier.tick() == [rollback]

    verdict = S.FIXED.format(state="3/3 ready", after="2 min", verb="rollback") + \
        S.ALERT_RESOLVED.format(at=resolved_at)
    assert verdict in card_text(lp.slack_card())
    assert verdict in tg_card(chats, lp)["plain"]
    slack, telegram = thread(chats, lp)
    assert [line for line in slack if verdict in line] and [line for line in telegram if verdict in line]
    [stats] = lp.outcomes.stats("crashloopbackoff")
    assert (stats.action, stats.total, stats.succeeded) == ("k8s_rollback", 1, 1)
    lp.clock.advance(minutes=20)
    assert lp.verifier.tick() == [] and thread(chats, lp) == (slack, telegram), "said once"
    assert lp.outcomes.stats("crashloopbackoff")[0].total == 1, "counted once"


def test_a_scale_that_did_not_fix_it_gets_its_undo_proposed_by_the_next_process(
        mutable_settings: Settings, chats: dict[str, Any]) -> None:
    clock, prefix = Clock(), f"test:{uuid.uuid4().hex}:"
    first = loop(mutable_settings, chats, clock, prefix)
    scale = first.incident("k8s_scale", {**CHECKOUT, "replicas": 5})
    assert first.approve(scale, "slack:U0LEAD").startswith("done: scale")
    assert replicas(first.door) == 5
    assert first.verifier.tick() == [], "crash-looping, but the window is not over"

    # opsbot restarts: the next process's served loop (its worker's tick) finishes the verification
    clock.advance(minutes=10)
    nxt = loop(mutable_settings, chats, clock, prefix)
    pipeline = build_pipeline(mutable_settings, nxt.publisher.posters, prefix=prefix, door=nxt.door,
                              outcomes=nxt.outcomes)
    pipeline.stream.ensure_group()
    pipeline.worker("after-restart").step(block_ms=None)

    verdict = S.NOT_FIXED.format(still=S.STILL, state="5/5 CrashLoopBackOff, 0/5 ready", after="10 min", verb="scale")
    text = card_text(nxt.slack_card())
    assert verdict in text, text
    [undo_id] = approvals(nxt.slack_card())
    undo = nxt.door.gate.store.get(undo_id)
    assert undo is not None and undo.state == "pending" and undo.via == "verify"
    assert undo.args == {**CHECKOUT, "replicas": 3}, "back to the previous replica count"
    assert f"#{undo_id} {undo.preview.summary} — waiting for approval" in text
    slack, telegram = thread(chats, nxt)
    said = S.UNDO_PROPOSED.format(id=undo_id, summary=undo.preview.summary)
    assert any(verdict in line and said in line for line in slack), slack
    assert any(verdict in line and said in line for line in telegram), telegram
    assert replicas(nxt.door) == 5, "the undo waits for a person: nothing ran by itself"
    [stats] = nxt.outcomes.stats("crashloopbackoff")
    assert (stats.action, stats.total, stats.succeeded) == ("k8s_scale", 1, 0)


def test_a_restart_that_changed_nothing_is_not_fixed_and_has_no_undo(
        mutable_settings: Settings, chats: dict[str, Any]) -> None:
    lp = loop(mutable_settings, chats)
    restart = lp.incident("k8s_rollout_restart", CHECKOUT)
    assert lp.approve(restart, "slack:U0OPERATOR").startswith("done: restart")
    lp.clock.advance(minutes=9)
    assert lp.verifier.tick() == []
    lp.clock.advance(minutes=1)
    assert lp.verifier.tick() == [restart]

    line = next(x for x in card_text(lp.slack_card()).splitlines() if f"#{restart}" in x)
    assert "not fixed: still " in line and "CrashLoopBackOff" in line and "10 min after the restart" in line, line
    assert approvals(lp.slack_card()) == set(), "no undo: a restart changed nothing to put back"
    slack, _ = thread(chats, lp)
    assert any(S.UNDO_NOT_PROPOSED.format(why="a restart changes nothing that can be put back") in x for x in slack)


def test_the_verification_window_is_the_policys(mutable_settings: Settings, chats: dict[str, Any],
                                               tmp_path: Any) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(mutable_settings.policy_file.read_text() + "\nverify:\n  window: 3m\n  every: 10s\n")
    lp = loop(mutable_settings.model_copy(update={"policy_file": policy}), chats)
    restart = lp.incident("k8s_rollout_restart", CHECKOUT)
    assert lp.approve(restart, "slack:U0OPERATOR").startswith("done: restart")
    lp.clock.advance(minutes=3)
    assert lp.verifier.tick() == [restart]
    assert "3 min after the restart" in card_text(lp.slack_card())
    assert lp.door.gate.watches.get(restart).deadline - lp.door.gate.watches.get(restart).executed_at == \
        timedelta(minutes=3)


def test_the_undo_is_proposed_and_runs_within_the_cooldown_of_the_action_it_undoes(
        mutable_settings: Settings, chats: dict[str, Any], tmp_path: Any) -> None:
    """The policy verifies after 3 min, while another change to the target waits 5 min (cooldowns.default): the
    undo of opsbot's own scale is still proposed with its buttons, and an approval runs it at once."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(mutable_settings.policy_file.read_text() + "\nverify:\n  window: 3m\n  every: 10s\n")
    lp = loop(mutable_settings.model_copy(update={"policy_file": policy}), chats)
    scale = lp.incident("k8s_scale", {**CHECKOUT, "replicas": 5})
    assert lp.approve(scale, "slack:U0LEAD").startswith("done: scale")
    lp.clock.advance(minutes=3)
    assert lp.verifier.tick() == [scale]

    [undo_id] = approvals(lp.slack_card())
    undo = lp.door.gate.store.get(undo_id)
    assert undo is not None and undo.state == "pending" and undo.args == {**CHECKOUT, "replicas": 3}
    slack, _ = thread(chats, lp)
    assert not [x for x in slack if "undo not proposed" in x], slack
    assert lp.approve(undo_id, "slack:U0ADMIN").startswith("done: scale"), "not held back by the cooldown"
    assert replicas(lp.door) == 3


def test_an_action_asked_for_in_chat_gets_its_verdict_and_undo_on_its_own_message(
        mutable_settings: Settings, chats: dict[str, Any]) -> None:
    lp = loop(mutable_settings, chats)
    chat = Conversation(lp.door, Agent(mutable_settings, lp.door), namespaces=["shop"])
    slack = SlackFrontend(SlackSettings(bot_token=SecretStr(chats["slack"].token), signing_secret=SecretStr(SECRET),
                                        api_base_url=chats["slack_url"]), chat, Decisions(lp.store, lp.publisher))
    with served(slack.http_app()) as server:
        ws = Workspace(server.url, chats["slack"])
        ws.mention("U0OPERATOR", "scale shop/checkout 5")
        ts, _ = ws.next_card()
        [scale] = approvals(chats["slack"].message(CHANNEL, ts))
        assert ws.click("U0LEAD", ts, scale).status_code == 200
        wait_for(lambda: replicas(lp.door) == 5 or None, 15, "the scale to run")
        lp.clock.advance(minutes=10)
        assert lp.verifier.tick() == [scale]

    message = chats["slack"].message(CHANNEL, ts)
    assert "not fixed: still 5/5 CrashLoopBackOff, 0/5 ready 10 min after the scale" in card_text(message)
    [undo] = approvals(message)
    assert lp.door.gate.store.get(undo).args == {**CHECKOUT, "replicas": 3}  # type: ignore[union-attr]
    assert replicas(lp.door) == 5


BEFORE = Snapshot(desired=3, ready=3, rolled_out=True, statuses={"Running": 3}, restarts={"a": 0, "b": 0, "c": 0})
CRASHING = Snapshot(desired=3, ready=0, rolled_out=False, statuses={"CrashLoopBackOff": 3}, restarts={"a": 4})


@pytest.mark.parametrize(("now", "state", "alert", "said", "undo"), [
    (5, BEFORE, "resolved", "fixed: 3/3 ready 5 min after the rollback, alert resolved at 04:12 UTC", False),
    (5, BEFORE, "firing", None, False),
    (10, BEFORE, "firing", "not fixed: 3/3 ready but the alert still fires 10 min after the rollback", False),
    (5, CRASHING, None, None, False),
    (10, CRASHING, None, "worse: 3/3 CrashLoopBackOff, 0/3 ready 10 min after the rollback (before it: 3/3 ready)",
     True),
    (10, None, None, "not verified: could not reach Kubernetes 10 min after the rollback", False),
    (10, BEFORE, "sentry", "not verified: 3/3 ready 10 min after the rollback, but Sentry closes an issue only when "
     "someone resolves it: resolve it there if its errors stopped", False),
])
def test_verdicts(now: int, state: Snapshot | None, alert: str | None, said: str | None, undo: bool) -> None:
    """What the card's action line says, by the target's state, the alert and the time since the action ran."""
    t0 = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    watch = Watch(action_id="a1", tool="k8s_rollback", summary="roll back", namespace="shop", deployment="checkout",
                  executed_at=t0, deadline=t0 + timedelta(minutes=10), before=BEFORE)
    card = None if alert is None else Card(
        incident_id="inc-1", title="X", severity="P1", status="firing" if alert == "sentry" else alert,
        source="sentry" if alert == "sentry" else "alertmanager", failing="x",
        updated_at=t0, resolved_at=datetime(2026, 12, 7, 4, 12, tzinfo=UTC) if alert == "resolved" else None)
    found = judge(watch, state, "could not reach Kubernetes", card, t0 + timedelta(minutes=now))
    assert found == (None if said is None else (said, undo))
