"""The crashloop-missing-env scenario twice: in an emulator of its own, and copied into the real control plane,
with settings onto both; the real one is reached as deploy/kubernetes' opsbot ServiceAccount (RBAC enforced),
the emulator enforces the same ClusterRole. A test that changes the cluster asks for `changed_twins` (or
`every_kind_twins`, the every-kind scenario instead): both are reloaded before it, and the next test that asks
for `twins` gets them reloaded again. `real_sandbox` is a sandbox on a second control plane, with the scheduler, the
controller-manager, kwok and kube-state-metrics beside it (controllers there would act on the twins' copies)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from bot.settings import Settings, load_settings
from sandbox import k8s, k8s_real, procs, scenario
from sandbox.controlplane import ControlPlane
from sandbox.k8s_copy import clear_cluster, copy_cluster, dynamic
from sandbox.k8s_identity import opsbot_kubeconfig
from sandbox.manager import SERVE_PORT_FILE, Sandbox
from tests.deploy.test_rbac import RBAC, rules
from tests.support.built import require_components
from tests.support.doors import SCENARIO
from tests.support.every_kind import EVERY_KIND


def _on(settings: Settings, kubeconfig: Path) -> Settings:
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(update={"kubeconfig": kubeconfig})})


class Twins:
    """The same cluster in the emulator and in the real API server; settings whose Kubernetes is each."""

    def __init__(self, cp: ControlPlane, settings: Settings, state: Path, port: int, opsbot: Path) -> None:
        self.state, self.port, self.admin = state, port, dynamic(cp.admin_kubeconfig)
        self.etcd_url = cp.etcd_url  # the copies are as old as the emulator's objects (sandbox/k8s_etcd.py)
        self.emulated = _on(settings, k8s.kubeconfig_path(state))
        self.real = _on(settings, opsbot)
        self.changed = True
        self.copied: list[tuple[str, str | None, str]] = []  # (plural, namespace, name) of what the copy made
        self.assigned: dict[str, str] = {}  # what the API server gave a copy (uids, cluster IPs): the emulator's

    def reload(self, name: str = SCENARIO) -> None:
        """Both clusters back to a scenario (by default crashloop-missing-env) as loaded now."""
        k8s.enforce_rbac(self.state, self.port, None)
        loaded = scenario.load(name)
        k8s.load(self.state, self.port, loaded, loaded.t0(time.time()))
        clear_cluster(self.admin, self.copied)
        self.copied = []
        self.assigned = copy_cluster(k8s.kubeconfig_path(self.state), self.admin, self.copied,
                                     etcd_url=self.etcd_url)
        k8s.enforce_rbac(self.state, self.port, rules(RBAC, "ClusterRole"))  # both answer opsbot as deploy/ lets it
        self.changed = False


@pytest.fixture(scope="session")
def all_twins(controlplane: ControlPlane, settings: Settings,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    state, port = tmp_path_factory.mktemp("twin-emulator"), procs.free_port()
    k8s.start(state, port)
    try:
        opsbot = opsbot_kubeconfig(controlplane, tmp_path_factory.mktemp("opsbot") / "kubeconfig.yaml")
        yield Twins(controlplane, settings, state, port, opsbot)
    finally:
        procs.stop(k8s.NAME, state)


@pytest.fixture
def twins(all_twins: Twins) -> Twins:
    """The twins as the scenario loads them (reloaded if a test changed them)."""
    if all_twins.changed:
        all_twins.reload()
    return all_twins


@pytest.fixture
def every_kind_twins(all_twins: Twins) -> Iterator[Twins]:
    """Twins holding tests/sandbox/data/every-kind.yaml (one object of every kind the tools know)."""
    all_twins.reload(str(EVERY_KIND))
    all_twins.changed = True
    yield all_twins


@pytest.fixture
def changed_twins(all_twins: Twins) -> Iterator[Twins]:
    """Fresh twins for a test that changes them."""
    all_twins.reload()
    all_twins.changed = True
    yield all_twins


class RealSandbox:
    """A sandbox on the real control plane (`--kubernetes real`: the scheduler, the controller-manager, kwok and
    kube-state-metrics beside the API server), crashloop-missing-env loaded; opsbot's settings for it, and the
    cluster's administrator (tests/controlplane/test_real_sandbox.py)."""

    def __init__(self, sb: Sandbox) -> None:
        self.sandbox, self.settings = sb, load_settings(sb.settings_file)
        api = config.new_client_from_config(str(k8s_real.control_plane(sb.dir).admin_kubeconfig))
        self.core, self.apps = client.CoreV1Api(api), client.AppsV1Api(api)


@pytest.fixture(scope="session")
def real_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealSandbox]:
    """Started once per run, only for the tests that ask; skipped, saying why, only when Go is missing."""
    require_components()
    sb = Sandbox(tmp_path_factory.mktemp("real-sandbox"), kubernetes="real")
    (sb.dir / SERVE_PORT_FILE).write_text("9")  # Alertmanager posts nowhere: no test serves this sandbox
    try:
        sb.up()
        sb.load(scenario.load(SCENARIO))
        yield RealSandbox(sb)
    except procs.SandboxError as e:
        pytest.fail(f"the sandbox on the real control plane did not start: {e}")
    finally:
        sb.down()
