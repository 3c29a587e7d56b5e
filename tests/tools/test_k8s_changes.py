"""`k8s_changes` and `opsbot changes`: what changed, oldest first, read from what a real API server keeps (ReplicaSets
for rollouts, the controllers' ScalingReplicaSet and SuccessfulRescale events, Jobs' status, managedFields for when
and by whom a ConfigMap, Secret or workload was written), never a Secret's value."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import client, config
from typer.testing import CliRunner

from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.cli.main import app
from bot.guard.door import Caller, Door
from bot.guard.invoke import invoke
from bot.settings import Settings
from tests.cli.test_policy_cli import door_and_config
from tests.support.doors import make_door
from tools.base import Status

ONCALL = Caller(identity="slack:U0OP", via="chat")
RELEASE = "rollout to revision 2: registry.example.com/shop/web:1.9.4 → registry.example.com/shop/web:2.0.0"


@pytest.fixture
def release_and_scale(private_scenario: Callable[[str], Settings]) -> Settings:
    """shop/web: release 2.0.0 100 min ago, its autoscaler and the controller took it 6 → 20 30 min ago."""
    return private_scenario("connections-exhausted-after-release-autoscaled")


@pytest.fixture
def rotated(private_scenario: Callable[[str], Settings]) -> Settings:
    """shop/orders-db: a Job rotated the password and patched the Secret 41 min ago."""
    return private_scenario("stale-secret-password-rotated")


def test_the_release_then_the_autoscaler_and_the_scale_in_time_order(release_and_scale: Settings) -> None:
    r = make_door(release_and_scale).run("k8s_changes", {"namespace": "shop", "since": "2h"}, ONCALL)
    assert r.status == Status.success, r.error
    what = [(c["kind"], c["object"], c["what"]) for c in r.data["changes"]]
    release = next(i for i, w in enumerate(what) if w[2].startswith(RELEASE))
    scale = next(i for i, w in enumerate(what) if w[:2] == ("Deployment", "shop/web") and "scaled up 6 → 20" in w[2])
    hpa = next(i for i, w in enumerate(what) if w[0] == "HorizontalPodAutoscaler" and "rescaled to 20" in w[2])
    failed = next(i for i, w in enumerate(what) if w[1] == "shop/report-export-29417280" and "failed" in w[2])
    assert release < failed < min(hpa, scale), what
    assert "change-cause: release 2.0.0" in what[release][2]
    assert r.data["changes"][scale]["by"] == "horizontal-pod-autoscaler"
    assert [c["at"] for c in r.data["changes"]] == sorted(c["at"] for c in r.data["changes"])
    assert "keeps about 1h" in r.notice  # events do not last: said, not hidden


def test_a_scale_through_the_api_is_a_change_with_its_field_manager(release_and_scale: Settings) -> None:
    api = config.new_client_from_config(str(release_and_scale.kubernetes.kubeconfig))
    client.AppsV1Api(api).patch_namespaced_deployment_scale("cart", "shop", {"spec": {"replicas": 5}},
                                                            field_manager="kubectl-scale")
    r = make_door(release_and_scale).run("k8s_changes", {"namespace": "shop", "since": "10m"}, ONCALL)
    (cart,) = [c for c in r.data["changes"] if c["object"] == "shop/cart"]
    assert cart["what"].startswith("scaled up 2 → 5") and cart["by"] == "kubectl-scale", cart


def test_a_modified_secret_says_when_and_who_never_its_value(rotated: Settings) -> None:
    r = make_door(rotated).run("k8s_changes", {"namespace": "shop"}, ONCALL)
    (secret,) = [c for c in r.data["changes"] if c["kind"] == "Secret"]
    assert secret["object"] == "shop/orders-db" and secret["age"] == "41m"
    assert secret["what"].startswith("modified by kubectl-patch")
    assert [c["what"] for c in r.data["changes"] if c["object"] == "shop/rotate-orders-db-password"] == [
        "started", "completed, 1 succeeded"]
    assert "s3cr3t-rotated-7Qp" not in json.dumps(r.model_dump(mode="json"))


def test_a_since_that_is_not_a_time_is_said_in_words(rotated: Settings) -> None:
    r = make_door(rotated).run("k8s_changes", {"namespace": "shop", "since": "the other day-ish"}, ONCALL)
    assert r.status == Status.error and "is not a time" in r.error


def test_opsbot_changes_shows_the_release_and_the_scale_in_time_order(release_and_scale: Settings,
                                                                      tmp_path: Path) -> None:
    _, cfg = door_and_config(tmp_path, release_and_scale)
    result = CliRunner().invoke(app, ["changes", "shop", "--since", "2h", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    release = next(i for i, x in enumerate(lines) if RELEASE in x)
    scale = next(i for i, x in enumerate(lines) if "Deployment shop/web: scaled up 6 → 20" in x)
    assert release < scale, lines
    assert "[by horizontal-pod-autoscaler]" in lines[scale]


def test_the_chat_command_reads_the_namespace_and_the_time(release_and_scale: Settings) -> None:
    door: Door = make_door(release_and_scale)
    chat = Conversation(door, Agent(release_and_scale, door), ["payments"])
    reply = chat.command("changes shop 2h", "t-1", "slack:U0OP")
    assert "k8s_changes(namespace='shop', since='2h')" in reply.text
    assert "scaled up 6 → 20" in reply.text and "rollout to revision 2" in reply.text
    assert reply.text.index("rollout to revision 2") < reply.text.index("scaled up 6 → 20")
    assert "since='since 10:00'" in chat.command("changes shop since 10:00", "t-1", "slack:U0OP").text


def test_a_rollback_is_a_change_at_the_time_it_was_made(private_scenario: Callable[[str], Settings]) -> None:
    door = make_door(private_scenario("crashloop-missing-env"))  # shop/checkout 1.4.2 → 1.5.0 25 min ago
    before = door.run("k8s_changes", {"namespace": "shop", "since": "10m"}, ONCALL)
    assert before.status == Status.no_data, before.data
    t = door.tools["k8s_rollback"]
    args = {"namespace": "shop", "deployment": "checkout"}
    assert invoke(t, door.ctx, t.args.model_validate(args), "cli:tester").status == Status.success
    r = door.run("k8s_changes", {"namespace": "shop", "since": "10m"}, ONCALL)
    (rollback,) = [c for c in r.data["changes"] if c["object"] == "shop/checkout"]
    assert rollback["what"].startswith(
        "rollout to revision 3: registry.local/shop/checkout:1.5.0 → registry.local/shop/checkout:1.4.2 "
        "(a rollback: replica set checkout-"), rollback
    assert rollback["age"].endswith("s") and rollback["by"], "made seconds ago, by the writer managedFields names"
