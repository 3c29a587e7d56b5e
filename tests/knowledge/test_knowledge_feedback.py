"""People's feedback in outcome learning, on the sandbox's Redis: a false alarm's fix is not counted (before or after
its verdict, once however often it is marked, back when the mark changes), a wrong cause holds its actions back
from the recommendation, and the marks themselves are kept only in the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from bot.settings import KnowledgeSettings, Settings
from bot.wiring import redis_client
from knowledge.feedback import Feedback, mark_of
from knowledge.incident import Incident
from knowledge.outcomes import Outcomes
from knowledge.playbooks import load_dir
from knowledge.store import KnowledgeStore
from tests.support.doors import Clock

T0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
KIND = "crashloopbackoff"


@pytest.fixture
def outcomes(settings: Settings) -> Outcomes:
    return Outcomes(redis_client(settings), f"test:{uuid.uuid4().hex}:", settings.knowledge)


def fixed(o: Outcomes, n: int, action: str = "k8s_rollback", kind: str = KIND) -> None:
    """`n` past incidents of `kind` each fixed by `action`, verified."""
    for i in range(n):
        assert o.record_once(kind, action, f"{kind}-{action}-{i}", True, incident=f"{kind}-{i}@1") is not None


def totals(o: Outcomes, kind: str = KIND) -> dict[str, tuple[int, int]]:
    return {s.action: (s.total, s.succeeded) for s in o.stats(kind)}


def test_a_false_alarms_fix_is_taken_out_of_the_counts_once_and_back_when_the_mark_changes(outcomes: Outcomes) -> None:
    fixed(outcomes, 4)
    outcomes.record_once(KIND, "k8s_rollback", "a-1", True, incident="inc-7@1")
    assert totals(outcomes) == {"k8s_rollback": (5, 5)}
    assert [r.action for r in outcomes.recommend(KIND)] == ["k8s_rollback"]

    for _ in range(3):  # clicked again and again: counted apart once
        outcomes.mark("inc-7@1", KIND, ["k8s_rollback"], "false_alarm")
    assert totals(outcomes) == {"k8s_rollback": (4, 4)}
    assert outcomes.recommend(KIND) == []  # 4 verified fixes are not enough

    outcomes.mark("inc-7@1", KIND, ["k8s_rollback"], "right_cause")  # a second look: it was real
    assert totals(outcomes) == {"k8s_rollback": (5, 5)}


def test_a_verdict_that_arrives_after_the_false_alarm_mark_is_not_counted(outcomes: Outcomes) -> None:
    outcomes.mark("inc-8@1", KIND, ["k8s_rollout_restart"], "false_alarm")
    assert outcomes.record_once(KIND, "k8s_rollout_restart", "a-2", True, incident="inc-8@1") is None
    assert totals(outcomes) == {}
    assert outcomes.record_once(KIND, "k8s_rollout_restart", "a-2", True, incident="inc-8@1") is None  # retried
    outcomes.mark("inc-8@1", KIND, ["k8s_rollout_restart"], "not_actionable")
    assert totals(outcomes) == {"k8s_rollout_restart": (1, 1)}


def test_a_wrong_cause_holds_its_actions_back_from_the_recommendation_of_its_kind(outcomes: Outcomes) -> None:
    fixed(outcomes, 6)
    fixed(outcomes, 6, kind="http-5xx-spike")
    outcomes.mark("inc-9@1", KIND, ["k8s_rollback", "k8s_scale"], "wrong_cause")
    outcomes.mark("inc-9@1", KIND, ["k8s_rollback", "k8s_scale"], "wrong_cause")
    assert outcomes.recommend(KIND) == []
    assert [r.action for r in outcomes.recommend("http-5xx-spike")] == ["k8s_rollback"]  # another kind: as it was

    pb = next(p for p in load_dir(KnowledgeSettings().playbooks_dir) if p.name == "oomkilled")
    assert pb.recommended and outcomes.recommended_action(pb).action == pb.recommended
    outcomes.mark("inc-10@1", "oomkilled", [pb.recommended], "wrong_cause")
    assert outcomes.recommended_action(pb) is None  # the playbook's own action is not proposed first either

    outcomes.mark("inc-9@1", KIND, ["k8s_rollback", "k8s_scale"], "right_cause")
    assert [r.action for r in outcomes.recommend(KIND)] == ["k8s_rollback"]


def test_a_wrong_cause_hold_ends_with_its_age_or_a_later_verified_fix(settings: Settings) -> None:
    """A hold is not for ever: it ends `wrong_cause_hold` (14 days by default) after the mark, or sooner when the
    same action is verified to fix the same failure mode in another incident; a failed verdict, or the marked
    incident's own (kept apart), lifts nothing."""
    clock, hold = Clock(), settings.knowledge.wrong_cause_hold
    assert hold == timedelta(days=14)
    outcomes = Outcomes(redis_client(settings), f"test:{uuid.uuid4().hex}:", settings.knowledge, now=clock)
    fixed(outcomes, 6)
    outcomes.mark("inc-9@1", KIND, ["k8s_rollback"], "wrong_cause")
    clock.advance(seconds=hold.total_seconds() - 60)
    assert outcomes.recommend(KIND) == [] and outcomes.promotion(KIND) is None, "held up to the end"
    clock.advance(seconds=61)
    assert [r.action for r in outcomes.recommend(KIND)] == ["k8s_rollback"], "the hold ended"
    assert outcomes.promotion(KIND) is not None

    outcomes.mark("inc-10@1", KIND, ["k8s_rollback"], "wrong_cause")
    outcomes.record_once(KIND, "k8s_rollback", "a-10", True, incident="inc-10@1")  # its own: kept apart
    outcomes.record_once(KIND, "k8s_rollback", "a-11", False, incident="inc-11@1")  # not a fix
    assert outcomes.recommend(KIND) == []
    assert outcomes.record_once(KIND, "k8s_rollback", "a-12", True, incident="inc-12@1") is not None
    assert [r.action for r in outcomes.recommend(KIND)] == ["k8s_rollback"], "a later verified fix lifts it"


def test_outcome_learning_keeps_no_copy_of_the_marks(settings: Settings, outcomes: Outcomes) -> None:
    """A mark has one record, the audit log (`opsbot report` reads the false-alarm rate there): outcome learning
    keeps only what changes its counts, so a mark that changes none leaves nothing behind in Redis, and a later
    mark takes away what an earlier one kept."""
    outcomes.mark("inc-1@1", KIND, ["k8s_rollback"], "not_actionable")
    outcomes.mark("inc-2@1", KIND, ["k8s_rollback"], "false_alarm")
    outcomes.mark("inc-2@1", KIND, ["k8s_rollback"], "right_cause")
    assert redis_client(settings).keys(f"{outcomes.prefix}*") == []


@pytest.mark.parametrize("typed,mark", [("wrong-cause", "wrong_cause"), ("False Alarm", "false_alarm"),
                                        ("fp", "false_alarm"), ("not_actionable", "not_actionable"),
                                        ("right", "right_cause"), ("maybe", None)])
def test_marks_are_read_as_people_type_them(typed: str, mark: str | None) -> None:
    assert mark_of(typed) == mark


def test_a_stored_incident_carries_its_mark_in_its_document_and_metadata(knowledge: KnowledgeStore) -> None:
    incident_id = f"inc-{uuid.uuid4().hex[:6]}@1"
    knowledge.add_incident(Incident(id=incident_id, title="checkout pods crash looping", kind=KIND,
                                    outcome="resolved", started_at=T0))
    fb = Feedback(mark="false_alarm", by="slack:U0OPERATOR", at=T0, note="load test")
    marked = knowledge.mark_incident(incident_id, fb)
    assert marked is not None and marked.outcome == "false_positive"
    got = knowledge.incident_col.get(ids=[incident_id], include=["documents", "metadatas"])
    assert got["metadatas"][0]["feedback"] == "false_alarm" and got["metadatas"][0]["outcome"] == "false_positive"
    assert "Feedback: false alarm (load test)" in got["documents"][0]
    assert knowledge.incident(incident_id).feedback == fb
    assert knowledge.mark_incident("inc-none@1", fb) is None
