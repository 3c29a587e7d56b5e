"""A pending action's card says when it expires; the policy's `remind` names whom the card's thread mentions once,
a few minutes before; at its expiry the sweep of the served loop (a worker's tick) edits the card at once (no buttons,
"expired at") and tells whom `escalate` names. The test's clock moves; Slack and Telegram are the local fakes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from bot.cards import strings as S
from bot.intake.pipeline import build_pipeline
from bot.settings import Settings
from policies.schema import load_policy
from policies.yamlfile import FileError
from tests.support.slack_workspace import card_text
from tests.support.verifying import CHECKOUT, approvals, loop, tg_card, thread

REMIND = ('{roles: [oncall-lead, admin], count: 1, self_approval: false, expires: 15m, '
          'remind: {before: 5m, slack: "<!subteam^S0ONCALL>", telegram: "@oncall_lead"}, '
          'escalate: {slack: "<@U0HEADOFOPS>"}}')
SCALING = "{roles: [oncall-lead, admin], count: 1, self_approval: false, expires: 15m}"


@pytest.fixture
def reminding(mutable_settings: Settings, tmp_path: Path) -> Settings:
    """The sandbox's policy, its scaling rule naming whom to remind 5 minutes before its 15-minute expiry."""
    text = mutable_settings.policy_file.read_text()
    assert text.count(SCALING) == 1
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace(SCALING, REMIND))
    return mutable_settings.model_copy(update={"policy_file": policy})


def test_a_pending_action_shows_its_expiry_reminds_once_then_expires_and_escalates_on_the_served_tick(
        reminding: Settings, chats: dict[str, Any]) -> None:
    lp = loop(reminding, chats, prefix=f"test:{uuid.uuid4().hex}:")
    scale = lp.incident("k8s_scale", {**CHECKOUT, "replicas": 5})
    action = lp.door.gate.store.get(scale)
    assert action is not None
    expires = S.EXPIRES.format(at=action.expires_at)
    assert f"#{scale} {action.preview.summary} — waiting for approval, {expires}" in card_text(lp.slack_card())
    assert expires in tg_card(chats, lp)["plain"]

    worker = build_pipeline(reminding, lp.publisher.posters, prefix=lp.prefix, door=lp.door).worker("tick")
    worker.stream.ensure_group()
    worker.step(block_ms=None)
    assert thread(chats, lp) == ([], []), "10 minutes before the expiry: no reminder yet"

    lp.clock.advance(minutes=11)
    worker.step(block_ms=None)
    slack, telegram = thread(chats, lp)
    said = S.REMINDER.format(who="", id=scale, summary=action.preview.summary, at=action.expires_at).strip()
    assert slack == [f"<!subteam^S0ONCALL> {said}"] and telegram == [f"@oncall_lead {said}"]
    assert approvals(lp.slack_card()) == {scale}, "still pending: it can be approved"
    lp.clock.advance(minutes=1)
    worker.step(block_ms=None)
    assert thread(chats, lp) == (slack, telegram), "reminded once"

    lp.clock.advance(minutes=4)
    worker.step(block_ms=None)
    gone = S.EXPIRED.format(at=action.expires_at)
    assert gone in card_text(lp.slack_card()) and approvals(lp.slack_card()) == set()
    assert expires not in card_text(lp.slack_card())
    assert gone in tg_card(chats, lp)["plain"] and expires not in tg_card(chats, lp)["plain"]
    escalated = S.ESCALATION.format(who="", id=scale, summary=action.preview.summary, at=action.expires_at).strip()
    assert thread(chats, lp) == ([*slack, f"<@U0HEADOFOPS> {escalated}"], [*telegram, escalated]), \
        "escalated once, mentioning on Slack whom the policy names (nobody named for Telegram)"
    worker.step(block_ms=None)
    assert len(thread(chats, lp)[0]) == 2
    keyboard = (tg_card(chats, lp).get("reply_markup") or {}).get("inline_keyboard") or []
    assert not [b for row in keyboard for b in row if b["callback_data"].endswith(scale)], "no Approve / Deny left"


def test_policy_keys_of_verification_and_reminders_are_checked(reminding: Settings, tmp_path: Path) -> None:
    text = reminding.policy_file.read_text()
    assert load_policy(reminding.policy_file).rules[3].approvers.remind.telegram == "@oncall_lead"  # type: ignore
    cases = {
        "verify:\n  window: 10m\n  windw: 5m\n": "windw",
        "verify:\n  window: 0s\n": "longer than zero",
    }
    for extra, named in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text + "\n" + extra)
        with pytest.raises(FileError, match=named):
            load_policy(bad)
    for remind, named in {"remind: {before: 5m}": "names nobody", "escalate: {}": "names nobody", "remind: {before: 20m, telegram: '@oncall_lead'}":
                          "must be shorter than expires", "remind: {slack: '@here'}": "slack",
                          "remind: {whom: '@x'}": "whom"}.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text.replace(REMIND, SCALING.replace("}", f", {remind}}}")))
        with pytest.raises(FileError, match=named):
            load_policy(bad)
