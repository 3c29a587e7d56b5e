"""The rollback target, chosen as an on-call engineer would: past restarts, past releases that ran unhealthy,
to the newest template that differs and ran; said in words without an env value; refused when nothing fits."""

from __future__ import annotations

from typing import Any

from tools.k8s_revisions import Health, Revision, changes, plan


def _spec(image: str, **container: Any) -> dict[str, Any]:
    return {"labels": {"app": "api"}, "spec": {"containers": [{"name": "api", "image": image, **container}]}}


def _rev(n: int, image: str, pods: int = 0, ready: int = 0, **container: Any) -> Revision:
    return Revision(n, f"api-{n}", image, _spec(image, **container), pods=pods, ready=ready)


def test_restarts_are_skipped_and_the_live_status_is_the_evidence() -> None:
    """4 is a restart of 3 (same template); 2 still has its 3 ready pods during the stalled rollout."""
    revs = [_rev(1, "api:1"), _rev(2, "api:2", pods=3, ready=3), _rev(3, "api:3"), _rev(4, "api:3", pods=1)]
    p = plan("shop/api", revs[-1], revs)
    assert p.target is revs[1] and p.began is revs[2]
    assert p.reason() == ("revision 2 (api:2), the newest earlier revision whose pod template differs from the "
                          "current one (image api:3 → api:2); it has 3/3 ready replicas now")


def test_a_release_that_runs_unhealthy_now_is_passed_over_and_said_why_when_none_is_left() -> None:
    revs = [_rev(1, "api:1"), _rev(2, "api:2", pods=2, ready=0), _rev(3, "api:3", pods=1)]
    p = plan("shop/api", revs[-1], revs)
    assert p.target is revs[0] and p.health is None and p.reason().endswith("; health not known")
    known_bad = {1: Health(False, "it ran 3 replicas within the last 7d and none became ready")}
    refused = plan("shop/api", revs[-1], revs, history=lambda asked: {r.number: known_bad[r.number] for r in asked})
    assert refused.target is None and refused.refused == (
        "no earlier revision of shop/api that differs from the current one ran healthy: revision 2 (api:2): it has "
        "0/2 ready replicas now; revision 1 (api:1): it ran 3 replicas within the last 7d and none became ready")


def test_what_differs_names_env_sources_and_config_references_never_values() -> None:
    old = _spec("api:1", env=[{"name": "DATABASE_URL", "value": "postgres://u:hunter2@db/x"},
                              {"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "api-token", "key": "t"}}}],
                env_from=[{"config_map_ref": {"name": "api-v1"}}], command=["serve"])
    new = _spec("api:1", env=[{"name": "TOKEN", "value": "plain"}], env_from=[{"config_map_ref": {"name": "api-v2"}}],
                command=["serve", "--fast"])
    words = changes(new, old)
    assert words == ["command serve --fast → serve", "env DATABASE_URL added (from a value)",
                     "env TOKEN: a value → Secret api-token key t", "envFrom ConfigMap api-v2 → ConfigMap api-v1"]
    assert "hunter2" not in " ".join(words)


def test_an_asked_revision_that_does_not_exist_names_the_ones_that_do() -> None:
    revs = [_rev(1, "api:1"), _rev(2, "api:2")]
    p = plan("shop/api", revs[-1], revs, to_revision=7)
    assert p.target is None and p.refused == "shop/api has no revision 7 to return to; revisions: 1, 2 (current 2)"


def test_an_asked_revision_is_said_to_be_asked_for_and_a_restart_of_the_current_one_is_refused() -> None:
    revs = [_rev(1, "api:1", pods=2, ready=2), _rev(2, "api:2"), _rev(3, "api:3"), _rev(4, "api:3")]
    asked = plan("shop/api", revs[-1], revs, to_revision=1)
    assert asked.reason() == "revision 1 (api:1), the revision asked for (image api:3 → api:1); it has 2/2 ready " \
                             "replicas now"
    same = plan("shop/api", revs[-1], revs, to_revision=3)
    assert same.target is None and same.refused and same.refused.endswith("a rollback to it would change nothing")
