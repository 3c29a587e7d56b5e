"""Shared fixtures: one sandbox of real local servers per test session, and doors onto it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.door import Caller, Door
from bot.settings import Settings, load_settings
from bot.wiring import build_door
from sandbox import procs, scenario
from sandbox.manager import Sandbox

SCENARIO = "crashloop-missing-env"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path_factory.mktemp("sandbox"))
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


def make_door(settings: Settings) -> Door:
    """A door onto the given backends with its own audit stream, so each test reads only its own records."""
    return build_door(settings, prefix=f"test:{uuid.uuid4().hex}:")


@pytest.fixture
def door(settings: Settings) -> Door:
    return make_door(settings)


@pytest.fixture
def down_door(down_settings: Settings) -> Door:
    return make_door(down_settings)


@pytest.fixture
def oncall() -> Caller:
    return Caller(identity="cli:tester", via="cli")


def scenario_path(name: str) -> Path:
    return scenario.SCENARIO_DIR / f"{name}.yaml"
