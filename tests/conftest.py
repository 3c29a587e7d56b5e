"""Shared fixtures: one sandbox of real local servers per test session, and doors onto it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.guard.door import Caller, Door
from bot.settings import KnowledgeSettings, Settings, load_settings
from sandbox import controlplane as controlplane_
from sandbox import k8s, procs, scenario
from sandbox.controlplane import ControlPlane
from sandbox.manager import SERVE_PORT_FILE, Sandbox
from tests.support.built import require_components
from tests.support.doors import SCENARIO, make_door
from tests.support.every_kind import every_kind_cluster

if TYPE_CHECKING:
    from knowledge.store import KnowledgeStore

@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of the test module's own, nothing loaded: the demo and the eval load scenarios into it."""
    sb = Sandbox(tmp_path_factory.mktemp("own-sandbox"))
    sb.up()
    yield sb
    sb.down()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path_factory.mktemp("sandbox"))
    # its Alertmanager posts to the discard port: no test's own server (on a free, ephemeral port) gets the
    # scenario's alerts by chance; tests that serve the sandbox's port bring up a sandbox of their own
    (sb.dir / SERVE_PORT_FILE).write_text("9")
    sb.up()
    sb.load(scenario.load(SCENARIO))
    yield sb
    sb.down()


@pytest.fixture(scope="session")
def settings(sandbox: Sandbox) -> Settings:
    return load_settings(sandbox.settings_file)


@pytest.fixture(scope="session")
def dead_url() -> str:
    """A loopback URL where nothing listens: a backend that is down."""
    return f"http://127.0.0.1:{procs.free_port()}"


@pytest.fixture(scope="session")
def down_settings(settings: Settings, dead_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The sandbox's settings with Prometheus, Alertmanager, Elasticsearch and Kubernetes all unreachable."""
    kubeconfig = tmp_path_factory.mktemp("down") / "kubeconfig.yaml"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: down\n"
        f"clusters: [{{name: down, cluster: {{server: '{dead_url}'}}}}]\n"
        "users: [{name: down, user: {token: x}}]\n"
        "contexts: [{name: down, context: {cluster: down, user: down}}]\n"
    )
    return settings.model_copy(
        update={
            "prometheus": settings.prometheus.model_copy(update={"url": dead_url}),
            "alertmanager": settings.alertmanager.model_copy(update={"url": dead_url}),
            "elasticsearch": settings.elasticsearch.model_copy(update={"url": dead_url}),
            "kubernetes": settings.kubernetes.model_copy(update={"kubeconfig": kubeconfig}),
        }
    )


@pytest.fixture
def door(settings: Settings) -> Door:
    return make_door(settings)


@pytest.fixture
def down_door(down_settings: Settings) -> Door:
    return make_door(down_settings)


@pytest.fixture
def oncall() -> Caller:
    return Caller(identity="cli:tester", via="cli")


@pytest.fixture(scope="session")
def every_kind_door_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose Kubernetes is an emulator of its own holding tests/sandbox/data/every-kind.yaml (read only)."""
    with every_kind_cluster(tmp_path_factory.mktemp("every-kind")) as kubeconfig:
        yield settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
            update={"kubeconfig": kubeconfig})})


@pytest.fixture(scope="module")
def private_k8s(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A Kubernetes emulator of the module's own, for tests that change the cluster."""
    state = tmp_path_factory.mktemp("private-k8s")
    port = procs.free_port()
    k8s.start(state, port)
    yield state, port
    procs.stop(k8s.NAME, state)


def _private(settings: Settings, private_k8s: tuple[Path, int], name: str) -> Settings:
    state, port = private_k8s
    k8s.load(state, port, scenario.load(name), time.time())
    return settings.model_copy(update={"kubernetes": settings.kubernetes.model_copy(
        update={"kubeconfig": k8s.kubeconfig_path(state)})})


@pytest.fixture
def private_scenario(settings: Settings, private_k8s: tuple[Path, int]) -> Callable[[str], Settings]:
    """Load a shipped scenario (by name) into the private emulator: the sandbox's settings onto it."""
    return lambda name: _private(settings, private_k8s, name)


@pytest.fixture
def mutable_settings(settings: Settings, private_k8s: tuple[Path, int]) -> Settings:
    """The sandbox's settings, but Kubernetes is the private emulator, freshly loaded with the scenario."""
    return _private(settings, private_k8s, SCENARIO)


@pytest.fixture
def first_release(settings: Settings, private_k8s: tuple[Path, int]) -> Settings:
    """As mutable_settings, with a service whose only release crash-loops (ml/feature-store-api)."""
    return _private(settings, private_k8s, "crashloop-python-traceback-first-release")


@pytest.fixture(scope="session")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeStore:
    """A Chroma store in a temporary folder with the shipped playbooks; the embedding model loads once."""
    from knowledge.store import KnowledgeStore
    from tools.catalog import tool_map

    return KnowledgeStore.open(tmp_path_factory.mktemp("knowledge"), tool_map(), KnowledgeSettings().playbooks_dir)


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A real etcd + kube-apiserver (RBAC on), started on first use; skipped, saying why, only when Go is missing."""
    require_components()
    state = tmp_path_factory.mktemp("controlplane")
    try:
        cp = controlplane_.start(state)
    except procs.SandboxError as e:
        pytest.fail(f"the control plane did not start: {e}")
    yield cp
    controlplane_.stop(state)
