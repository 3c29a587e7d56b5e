"""Learning from outcomes, on the sandbox's Redis: thresholds, the sentence, scoring order, promotion."""

from __future__ import annotations

import uuid

import pytest

from bot.settings import KnowledgeSettings, Settings
from bot.wiring import redis_client
from knowledge.outcomes import Outcomes
from knowledge.playbooks import load_dir


@pytest.fixture
def outcomes(settings: Settings) -> Outcomes:
    return Outcomes(redis_client(settings), f"test:{uuid.uuid4().hex}:", settings.knowledge)


def record(o: Outcomes, kind: str, action: str, succeeded: int, failed: int) -> None:
    for ok in [True] * succeeded + [False] * failed:
        o.record(kind, action, ok)


def test_four_outcomes_are_not_enough(outcomes: Outcomes) -> None:
    record(outcomes, "crashloopbackoff", "k8s_rollback", 4, 0)
    assert outcomes.recommend("crashloopbackoff") == []


def test_five_outcomes_with_three_successes_recommend_with_the_sentence(outcomes: Outcomes) -> None:
    record(outcomes, "crashloopbackoff", "k8s_rollback", 3, 2)
    [rec] = outcomes.recommend("crashloopbackoff")
    assert (rec.action, rec.total, rec.succeeded) == ("k8s_rollback", 5, 3)
    assert rec.sentence == "based on 5 past incidents, 3 succeeded"


def test_below_sixty_percent_is_not_recommended(outcomes: Outcomes) -> None:
    record(outcomes, "oomkilled", "k8s_scale", 2, 3)
    assert outcomes.recommend("oomkilled") == []


def test_recommendations_are_ordered_by_rate_times_log_n(outcomes: Outcomes) -> None:
    record(outcomes, "http-5xx-spike", "k8s_rollout_restart", 5, 0)   # 1.0 × ln 6  = 1.79
    record(outcomes, "http-5xx-spike", "k8s_rollback", 9, 1)          # 0.9 × ln 11 = 2.16
    record(outcomes, "http-5xx-spike", "k8s_scale", 6, 4)             # 0.6 × ln 11 = 1.44
    record(outcomes, "http-5xx-spike", "k8s_delete_pod", 1, 5)        # 17 %: never
    ranked = outcomes.recommend("http-5xx-spike")
    assert [r.action for r in ranked] == ["k8s_rollback", "k8s_rollout_restart", "k8s_scale"]
    assert ranked[0].score == pytest.approx(0.9 * 2.3979, abs=1e-3)


def test_kinds_are_counted_apart(outcomes: Outcomes) -> None:
    record(outcomes, "oomkilled", "k8s_rollout_restart", 5, 0)
    assert outcomes.recommend("crashloopbackoff") == []


def test_an_action_at_eighty_percent_is_promoted_over_the_playbooks_own(outcomes: Outcomes) -> None:
    pb = next(p for p in load_dir(KnowledgeSettings().playbooks_dir) if p.name == "oomkilled")
    assert pb.recommended == "k8s_rollout_restart"
    record(outcomes, "oomkilled", "k8s_rollback", 3, 1)
    rec = outcomes.recommended_action(pb)
    assert rec is not None and (rec.action, rec.source) == ("k8s_rollout_restart", "playbook")
    outcomes.record("oomkilled", "k8s_rollback", True)               # 4 of 5 = 80 %
    rec = outcomes.recommended_action(pb)
    assert rec is not None and (rec.action, rec.source) == ("k8s_rollback", "outcomes")
    assert rec.reason == "based on 5 past incidents, 4 succeeded"
    assert outcomes.promoted("oomkilled") == "k8s_rollback"
    outcomes.record("oomkilled", "k8s_rollback", False)              # 4 of 6 = 67 %: no longer
    assert outcomes.promotion("oomkilled") is None
    assert outcomes.promoted("oomkilled") is None


def test_thresholds_come_from_the_settings(settings: Settings) -> None:
    lenient = KnowledgeSettings(recommend_min_outcomes=2, recommend_min_success=0.5)
    o = Outcomes(redis_client(settings), f"test:{uuid.uuid4().hex}:", lenient)
    record(o, "failed-rollout", "k8s_rollback", 1, 1)
    assert [r.sentence for r in o.recommend("failed-rollout")] == ["based on 2 past incidents, 1 succeeded"]
