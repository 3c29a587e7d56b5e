"""A rollback after a restart, as an on-call shift does it: restart first (the reflex), then roll back.

On the emulator, as on a real cluster, `rollout restart` makes a new revision with the same image, so "the
previous revision" is the broken release again. The rollback must go past it to the last revision whose pod
template differs, say which and why, and refuse (no pending action) when every earlier revision is a restart.
"""

from __future__ import annotations

from bot.guard.door import Caller, Door
from bot.settings import Settings
from tests.support.alerting import wait_for
from tests.support.doors import OPERATOR, Clock, door_with_clock, make_door, restart_approved
from tools.base import Status

LEAD, ADMIN = "slack:U0LEAD", "slack:U0ADMIN"
BROKEN, GOOD = "registry.local/shop/checkout:1.5.0", "registry.local/shop/checkout:1.4.2"
READER = Caller(identity="cli:t")


def _described(door: Door, ns: str, name: str) -> dict:
    return door.run("k8s_describe", {"namespace": ns, "kind": "Deployment", "name": name}, READER).data


def test_a_rollback_after_a_restart_returns_to_the_last_good_release(mutable_settings: Settings) -> None:
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    restart_approved(door, clock, "shop", "checkout")
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
    restart_approved(door, clock, "shop", "checkout")
    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "checkout", "to_revision": 2}, OPERATOR)
    assert r.status == Status.error and door.gate.store.pending() == []
    assert r.error == ("no rollback of shop/checkout: revision 2 of shop/checkout runs the same pod template as "
                       f"the current one ({BROKEN}), only its annotations differ (a restart makes such a revision): "
                       "a rollback to it would change nothing")


def test_a_restarted_first_release_has_nothing_to_roll_back_to(first_release: Settings) -> None:
    clock = Clock()
    door = door_with_clock(first_release, clock)
    restart_approved(door, clock, "ml", "feature-store-api")
    image = _described(door, "ml", "feature-store-api")["image"]
    r = door.run("k8s_rollback", {"namespace": "ml", "deployment": "feature-store-api"}, OPERATOR)
    assert r.status == Status.error and r.error == (
        f"no rollback of ml/feature-store-api: every earlier revision of ml/feature-store-api (1) runs the same pod "
        f"template as the current one ({image}): a rollback would change nothing")
    assert door.gate.store.pending() == [], "the gate never makes a pending action of a no-op rollback"


def test_a_release_without_pods_left_is_vouched_for_by_kube_state_metrics_history(
        mutable_settings: Settings) -> None:
    """cart 2.3.1 ran 2 ready replicas (the sandbox's Prometheus scraped them from the same ReplicaSet); a deploy
    of 2.4.0 left it without pods, so its own status says nothing and the history is the evidence."""
    clock = Clock()
    door = door_with_clock(mutable_settings, clock)
    (old,) = _described(door, "shop", "cart")["revisions"]
    query = f'kube_replicaset_status_ready_replicas{{namespace="shop",replicaset="{old["replica_set"]}"}} > 0'
    now = make_door(mutable_settings)  # a clock that moves: the scrape comes after the test's start
    wait_for(lambda: now.run("prom_query", {"query": query}, READER).status == Status.success, 60,
             "Prometheus to scrape cart's ready replicas")
    new_image = {"spec": {"template": {"spec": {"containers": [{"name": "cart",
                                                                 "image": "registry.local/shop/cart:2.4.0"}]}}}}
    door.ctx.backends.apps_v1.patch_namespaced_deployment("cart", "shop", new_image)  # the release pipeline
    assert [x["pods"] for x in _described(door, "shop", "cart")["revisions"]] == [0, 2]

    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "cart"}, OPERATOR)
    assert r.status == Status.approval_required, r.error
    assert r.data["preview"]["summary"].endswith(
        "(image registry.local/shop/cart:2.4.0 → registry.local/shop/cart:2.3.1); it had 2 ready replicas within "
        "the last 7d (kube_replicaset_status_ready_replicas)")


def test_a_release_between_proposal_and_approval_does_not_send_the_rollback_elsewhere(
        mutable_settings: Settings) -> None:
    """Proposed: cart 2.4.0 back to 2.3.1. Before the approvals, 2.5.0 ships, and "the newest different revision"
    is now 2.4.0: the approval does not carry over to a rollback nobody saw."""
    door = door_with_clock(mutable_settings, Clock())
    release = lambda v: door.ctx.backends.apps_v1.patch_namespaced_deployment(  # noqa: E731 (the pipeline)
        "cart", "shop", {"spec": {"template": {"spec": {"containers": [
            {"name": "cart", "image": f"registry.local/shop/cart:{v}"}]}}}})
    release("2.4.0")
    r = door.run("k8s_rollback", {"namespace": "shop", "deployment": "cart"}, OPERATOR)
    assert r.status == Status.approval_required, r.error
    assert "to revision 1 (registry.local/shop/cart:2.3.1)" in r.data["preview"]["summary"]
    release("2.5.0")
    assert door.gate.decide(r.data["action_id"], LEAD, approve=True).ok
    late = door.gate.decide(r.data["action_id"], ADMIN, approve=True)
    assert not late.ok and late.message.startswith(
        "not executed: shop/deployment/cart changed since it was approved: it would now roll back shop/cart from "
        "revision 3 (registry.local/shop/cart:2.5.0) to revision 2 (registry.local/shop/cart:2.4.0)")
    assert _described(door, "shop", "cart")["image"] == "registry.local/shop/cart:2.5.0"
