"""Several clusters from one install: an alert labelled cluster=b is triaged against b and its approved action
changes b only, though cluster a (the default) holds an object of the same name; verification watches b; the
audit names the cluster, an unknown cluster is refused in words, and the policy can scope a rule to a cluster."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from bot.cards import strings as S
from bot.cards.store import CardStore
from bot.cards.text import render_text
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.config.check import check
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.intake.incidents import IncidentStore
from bot.intake.timeline import Timelines
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.triage import Triage
from bot.wiring import redis_client
from policies.engine import ActionRequest, PolicyEngine
from policies.schema import Rule, load_policy
from sandbox import k8s, procs, scenario
from tests.support.doors import OPERATOR, make_door
from tools.base import Status
from tools.settings import ClusterSettings

LABELS = {"alertname": "KubePodCrashLooping", "namespace": "shop", "service": "checkout", "severity": "critical",
          "cluster": "b"}


@pytest.fixture(scope="module")
def two_clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Two Kubernetes emulators, each with shop/checkout: healthy in a, crash-looping (DATABASE_URL) in b."""
    started = []
    kubeconfigs = {}
    try:
        for name, loaded in (("a", "bad-deploy-5xx"), ("b", "crashloop-missing-env")):
            state, port = tmp_path_factory.mktemp(f"cluster-{name}"), procs.free_port()
            k8s.start(state, port)
            started.append(state)
            k8s.load(state, port, scenario.load(loaded), time.time())
            kubeconfigs[name] = k8s.kubeconfig_path(state)
        yield kubeconfigs
    finally:
        for state in started:
            procs.stop(k8s.NAME, state)


@pytest.fixture
def clustered(settings: Settings, two_clusters: dict[str, Path]) -> Settings:
    clusters = {name: ClusterSettings(kubeconfig=path) for name, path in two_clusters.items()}
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"clusters": clusters, "default_cluster": "a"})})


def _checkout(kubeconfig: Path) -> Any:
    api = client.AppsV1Api(config.new_client_from_config(str(kubeconfig)))
    return api.read_namespaced_deployment("checkout", "shop")


def _alert_for(door: Door) -> Alert:
    """The alert as the Alertmanager intake parses Alertmanager's own webhook body."""
    payload = AMPayload.model_validate(am_payload([am_alert(LABELS, {"summary": "checkout is crash-looping"})]))
    return to_alert(payload.alerts[0], payload, lambda label: door.gate.engine.severity("alertmanager", label),
                    datetime.now(UTC))


def test_an_alert_from_cluster_b_is_triaged_against_b_and_its_approved_action_changes_b_only(
        clustered: Settings, two_clusters: dict[str, Path]) -> None:
    door = make_door(clustered)
    card = Triage(door).card(_alert_for(door), "inc-b")
    evidence = " ".join(line.text for line in card.evidence)
    assert "DATABASE_URL" in evidence, evidence  # b's crash-loop; a's checkout is Running 1.6.0
    assert "1.6.0" not in evidence, evidence
    assert any(line.check.startswith("k8s_") and "CrashLoopBackOff" in line.text for line in card.evidence), evidence
    assert f"Deployment shop/checkout {S.IN_CLUSTER.format(cluster='b')}" in render_text(card)
    acted = [a for a in card.actions if a.action_id]
    assert acted and all(a.args.get("cluster") == "b" for a in card.actions), card.actions
    images_before = {n: _checkout(p).spec.template.spec.containers[0].image for n, p in two_clusters.items()}
    done = door.gate.decide(acted[0].action_id, "slack:U0LEAD", approve=True)
    assert done.ok, done.message
    images_after = {n: _checkout(p).spec.template.spec.containers[0].image for n, p in two_clusters.items()}
    assert images_after["a"] == images_before["a"] == "registry.local/shop/checkout:1.6.0"
    assert images_after["b"] != images_before["b"], (acted[0], done.message)


def test_a_restart_on_b_restarts_b_only_and_the_audit_names_b(clustered: Settings,
                                                              two_clusters: dict[str, Path]) -> None:
    door = make_door(clustered)
    r = door.run("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"},
                 OPERATOR.model_copy(update={"cluster": "b"}))
    assert r.status == Status.approval_required, r.error
    assert r.data["preview"]["target"] == "b/shop/deployment/checkout"
    done = door.gate.decide(r.data["action_id"], "slack:U0LEAD", approve=True)
    assert done.ok, done.message
    restarted = {n: (_checkout(p).spec.template.metadata.annotations or {}).get("kubectl.kubernetes.io/restartedAt")
                 for n, p in two_clusters.items()}
    assert restarted["b"] and not restarted["a"], restarted
    watch = door.gate.watches.get(r.data["action_id"])  # verification judges b's checkout, not a's
    assert watch is not None and watch.cluster == "b" and watch.before is not None
    assert watch.before.desired == 3, watch.before  # b's checkout has 3 replicas, a's 4
    assert door.look("shop", "checkout", "b").desired == 3
    trail = [(rec.kind, rec.target) for rec in door.audit.query() if rec.action == "k8s_rollout_restart"]
    assert ("tool_call", "b/shop/checkout") in trail, trail
    assert ("decision", "b/shop/deployment/checkout") in trail, trail
    assert all(target.startswith("b/") for _, target in trail), trail


def test_an_unknown_cluster_is_refused_naming_the_known_ones(clustered: Settings) -> None:
    r = make_door(clustered).run("k8s_list", {"namespace": "shop", "cluster": "c"},
                                 Caller(identity="slack:U0OPERATOR", via="chat"))
    assert r.status == Status.error
    assert r.error == "no cluster 'c'; clusters: a, b"


def test_a_policy_rule_can_be_scoped_to_a_cluster(settings: Settings) -> None:
    shipped = load_policy(settings.policy_file)
    prod_by_cd = Rule.model_validate({"when": {"tier": ["T1"], "cluster": ["prod"]}, "decide": "deny",
                                      "reason": "prod changes go through CD"})
    engine = PolicyEngine(shipped.model_copy(update={"rules": [prod_by_cd, *shipped.rules]}))

    def decided(cluster: str) -> str:
        req = ActionRequest(tool="k8s_rollout_restart", namespace="shop", target="shop/Deployment/checkout",
                            requester="slack:U0OPERATOR", severity="P1", deployment="checkout", cluster=cluster)
        return engine.decide(req, [], datetime.now(UTC)).reason

    assert decided("prod") == "prod changes go through CD"
    assert decided("staging") != "prod changes go through CD"
    assert decided("staging") == PolicyEngine(shipped).decide(
        ActionRequest(tool="k8s_rollout_restart", namespace="shop", target="shop/Deployment/checkout",
                      requester="slack:U0OPERATOR", severity="P1", deployment="checkout"), [], datetime.now(UTC)).reason


def test_an_alert_naming_an_unknown_cluster_gets_a_card_that_says_so(clustered: Settings) -> None:
    door = make_door(clustered)
    alert = _alert_for(door)
    alert = alert.model_copy(update={"labels": {**alert.labels, "cluster": "c"}})
    card = Triage(door).card(alert, "inc-c")
    assert card.could_not_run, card.evidence
    assert all("no cluster 'c'; clusters: a, b" in line for line in card.could_not_run if "k8s_" in line)
    read = [line.text for line in card.evidence if line.check.startswith("k8s_")]
    assert read == [], read


def test_config_check_tries_each_cluster(clustered: Settings, dead_url: str, tmp_path: Path) -> None:
    down = tmp_path / "down.yaml"
    k8s.write_kubeconfig(down, dead_url, "x")
    k = clustered.kubernetes
    s = clustered.model_copy(update={"kubernetes": k.model_copy(update={
        "clusters": {**k.clusters, "c": ClusterSettings(kubeconfig=down)}})})
    found = {f.what: f.level for f in check(s) if f.what.startswith("kubernetes")}
    assert found == {"kubernetes a": "ok", "kubernetes b": "ok", "kubernetes c": "fail"}, found


def test_a_restart_typed_in_a_cluster_b_cards_thread_is_proposed_on_b(clustered: Settings) -> None:
    door = make_door(clustered)
    client, prefix = redis_client(clustered), f"test:{uuid.uuid4().hex}:"
    cards = CardStore(client, prefix)
    timelines = Timelines(IncidentStore(client, prefix, 3600, 3), cards, door.audit, None)
    card = Triage(door).card(_alert_for(door), "inc-thread")
    cards.save(card)
    chat = Conversation(door, Agent(clustered, door), ["payments"], timelines=timelines)
    reply = chat.command("restart", "slack:thread-1", "slack:U0OPERATOR", incident="inc-thread")
    [pending] = [a for a in (door.gate.store.get(i) for i in door.gate.store.pending()) if a and a.tool ==
                 "k8s_rollout_restart"]
    assert pending.args.get("cluster") == "b", (pending.args, reply.text)
    assert pending.preview.target == "b/shop/deployment/checkout"
