"""A rollback after a restart, as an on-call shift does it: restart first (the reflex), then roll back.

On the emulator, as on a real cluster, `rollout restart` makes a new revision with the same image, so "the
previous revision" is the broken release again. The rollback must go past it to the last revision whose pod
template differs, say which and why, and refuse (no pending action) when every earlier revision is a restart.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.guard.door import Caller, Door
from bot.settings import Settings
from bot.triage.troubleshoot import troubleshoot
from knowledge.store import KnowledgeStore
from sandbox import k8s, scenario
from tests.support.doors import OPERATOR, Clock, door_with_clock
from tools.base import Status

LEAD, ADMIN = "slack:U0LEAD", "slack:U0ADMIN"
BROKEN, GOOD = "registry.local/shop/checkout:1.5.0", "registry.local/shop/checkout:1.4.2"
READER = Caller(identity="cli:t")


def _restart(door: Door, clock: Clock, ns: str, name: str) -> None:
    """An approved `restart NAME`, executed; the clock then moves past the target's cooldown."""
    r = door.run("k8s_rollout_restart", {"namespace": ns, "deployment": name}, OPERATOR)
    assert r.status == Status.approval_required, r.error
    done = door.gate.decide(r.data["action_id"], LEAD, approve=True)
    assert done.ok and done.message.startswith("done: restart every pod"), done.message
    clock.advance(minutes=20)


def _described(door: Door, ns: str, name: str) -> dict:
    return door.run("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": name}, READER).data


def test_a_rollback_after_a_restart_returns_to_the_last_good_release(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    _restart(door, clock, "shop", "checkout")
    history = [(x["revision"], x["image"]) for x in _described(door, "shop", "checkout")["revisions"]]
    assert history == [(1, GOOD), (2, BROKEN), (3, BROKEN)], "a restart is a new revision of the same image"

    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}, OPERATOR)
    assert r.status == Status.approval_required, r.error
    summary = r.data["preview"]["summary"]
    assert summary.startswith(f"roll back shop/checkout from revision 3 ({BROKEN}) to revision 1 ({GOOD}), the "
                              "newest earlier revision whose pod template differs from the current one (")
    assert f"image {BROKEN} → {GOOD}" in summary and "env DATABASE_URL added (from a value)" in summary
    assert summary.endswith("health not known: no pods now, and Prometheus has no record of it running within "
                            "the last 7d"), "the sandbox's Prometheus never saw revision 1 run"
    assert "postgres://" not in r.model_dump_json(), "env values never leave the tool"
    assert door.gate.decide(r.data["action_id"], LEAD, approve=True).ok
    done = door.gate.decide(r.data["action_id"], ADMIN, approve=True)
    assert done.ok and done.message.startswith("done: roll back shop/checkout"), done.message

    after = _described(door, "shop", "checkout")
    assert after["image"] == GOOD and after["healthy"] is True, after["rollout"]
    assert [(x["revision"], x["image"]) for x in after["revisions"]] == [(2, BROKEN), (3, BROKEN), (4, GOOD)], \
        "revision 1's ReplicaSet is reused as revision 4; the number 1 is gone, as kubectl rollout history shows"
    pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, READER).data["pods"]
    assert len(pods) == 3 and all(p["healthy"] for p in pods)


def test_an_explicit_revision_that_is_only_a_restart_is_refused(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    _restart(door, clock, "shop", "checkout")
    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "checkout", "to_revision": 2}, OPERATOR)
    assert r.status == Status.error and door.gate.store.pending() == []
    assert r.error == ("no rollback of shop/checkout: revision 2 of shop/checkout runs the same pod template as "
                       f"the current one ({BROKEN}), only its annotations differ (a restart makes such a revision): "
                       "a rollback to it would change nothing")


@pytest.fixture
def first_release(settings: Settings, private_k8s: tuple[Path, int]) -> Settings:
    """The private emulator holding a service whose only release crash-loops (ml/feature-store-api)."""
    state, port = private_k8s
    k8s.load(state, port, scenario.load("crashloop-python-traceback-first-release"), time.time())
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})})


def test_a_restarted_first_release_has_nothing_to_roll_back_to(first_release: Settings,
                                                                knowledge: KnowledgeStore) -> None:
    clock = Clock()
    door = door_with_clock(first_release, clock)
    _restart(door, clock, "ml", "feature-store-api")
    image = _described(door, "ml", "feature-store-api")["image"]
    why = (f"every earlier revision of ml/feature-store-api (1) runs the same pod template as the current one "
           f"({image}): a rollback would change nothing")
    r = door.run("k8s_rollback", {"namespace": "ml", "deployment": "feature-store-api"}, OPERATOR)
    assert r.status == Status.error and r.error == f"no rollback of ml/feature-store-api: {why}"
    assert door.gate.store.pending() == [], "the gate never makes a pending action of a no-op rollback"

    report = troubleshoot(door, knowledge, OPERATOR, "ml", "feature-store-api")
    assert report.diagnosis and report.diagnosis.mode == "crashloopbackoff"
    assert report.proposals == [] and why in (report.diagnosis.advice or "")


def test_troubleshoot_after_a_restart_proposes_the_rollback_to_the_good_release(
        mutable_settings: Settings, knowledge: KnowledgeStore) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    _restart(door, clock, "shop", "checkout")
    report = troubleshoot(door, knowledge, OPERATOR, "shop", "checkout")
    (proposal,) = report.proposals
    assert proposal.tool == "k8s_rollback" and proposal.args == {"namespace": "shop", "deployment": "checkout"}
    assert f"back to revision 1 ({GOOD}), the newest earlier revision whose pod template differs" in proposal.when
    assert door.gate.store.pending() == []
