"""The emulated cluster heals by the fix's mechanism: a scale back frees what the extra replicas held (a database's
connections) only once the deployment runs at most the recovery's `replicas_at_most`; a first step that leaves more
heals nothing, and a recovery by revision is not set off by a scale."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from bot.polling import poll
from bot.settings import Settings
from sandbox.recovery import ClusterWatch


def _api(kubeconfig: Path) -> httpx.Client:
    config = yaml.safe_load(kubeconfig.read_text())
    return httpx.Client(base_url=config["clusters"][0]["cluster"]["server"],
                        headers={"Authorization": f"Bearer {config['users'][0]['user']['token']}"})


WORKER = "/apis/apps/v1/namespaces/shop/deployments/worker"


def _scale(kubeconfig: Path, replicas: int) -> None:
    with _api(kubeconfig) as api:
        api.patch(WORKER, content=json.dumps({"spec": {"replicas": replicas}}),
                  headers={"Content-Type": "application/merge-patch+json"}).raise_for_status()


def _available(kubeconfig: Path) -> int:
    with _api(kubeconfig) as api:
        return api.get(WORKER).json().get("status", {}).get("availableReplicas", 0)


def test_a_scale_back_heals_only_once_few_enough_replicas_are_left(private_scenario: Callable[[str], Settings]) -> None:
    kubeconfig = Path(private_scenario("connections-exhausted-worker-scaled").kubernetes.kubeconfig)
    watch = ClusterWatch(kubeconfig)  # as the exporter holds it: the recovery of the api's 5xx series
    assert watch.recovered_at("shop", "worker", time.time(), 15) is None, "30 workers hold the connections"
    assert watch.recovered_at("shop", "worker", time.time()) is None
    _scale(kubeconfig, 25)
    assert poll(lambda: _available(kubeconfig) == 25, 10, interval_s=0.1)
    assert watch.recovered_at("shop", "worker", time.time(), 15) is None, "step 1 of 6 leaves 250 connections held"
    _scale(kubeconfig, 15)
    assert poll(lambda: _available(kubeconfig) == 15, 10, interval_s=0.1)
    assert watch.recovered_at("shop", "worker", time.time(), 15) is not None
    assert watch.recovered_at("shop", "worker", time.time()) is None, "a scale is no new revision"
