"""The crashloop-missing-env scenario twice: in an emulator of its own, and copied into the real control plane,
with doors onto both; the real one is reached as deploy/kubernetes' opsbot ServiceAccount (RBAC enforced)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.settings import Settings
from sandbox import k8s, procs, scenario
from sandbox.controlplane import ControlPlane
from tests.deploy.test_rbac import RBAC, rules
from tests.support.controlplane import copy_cluster, dynamic, opsbot_kubeconfig
from tests.support.doors import SCENARIO


@dataclass(frozen=True)
class Twins:
    """The same cluster in the emulator and in the real API server; settings whose Kubernetes is each."""

    emulated: Settings
    real: Settings
    emulator_kubeconfig: Path


def _on(settings: Settings, kubeconfig: Path) -> Settings:
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(update={"kubeconfig": kubeconfig})})


@pytest.fixture(scope="session")
def twins(controlplane: ControlPlane, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    state, port = tmp_path_factory.mktemp("twin-emulator"), procs.free_port()
    k8s.start(state, port)
    try:
        k8s.load(state, port, scenario.load(SCENARIO), time.time())
        copy_cluster(k8s.kubeconfig_path(state), dynamic(controlplane.admin_kubeconfig))
        k8s.enforce_rbac(state, port, rules(RBAC, "ClusterRole"))  # both answer opsbot as deploy/ lets it
        opsbot = opsbot_kubeconfig(controlplane, tmp_path_factory.mktemp("opsbot") / "kubeconfig.yaml")
        yield Twins(_on(settings, k8s.kubeconfig_path(state)), _on(settings, opsbot), k8s.kubeconfig_path(state))
    finally:
        procs.stop(k8s.NAME, state)
