"""A second cluster with servers of its own: a sandbox (Kubernetes, Prometheus, Alertmanager, Elasticsearch, Loki)
loaded with another scenario, and the settings that name it cluster `b` beside the session sandbox's cluster `a`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings
from sandbox import scenario
from sandbox.manager import SERVE_PORT_FILE, Sandbox
from tools.settings import ClusterSettings

SERVERS = ("prometheus", "alertmanager", "elasticsearch", "loki")


@contextmanager
def second_cluster(state_dir: Path, scenario_name: str) -> Iterator[Sandbox]:
    """A sandbox of its own with `scenario_name` loaded, until the block ends."""
    sb = Sandbox(state_dir)
    sb.dir.mkdir(parents=True, exist_ok=True)
    (sb.dir / SERVE_PORT_FILE).write_text("9")  # its Alertmanager posts to the discard port, as the session's does
    sb.up()
    try:
        sb.load(scenario.load(scenario_name))
        yield sb
    finally:
        sb.down()


def servers_of(b: Sandbox, **more: dict[str, Any]) -> dict[str, Any]:
    """Cluster b's section of `kubernetes.clusters`: its kubeconfig and its own servers (as its sandbox names them)."""
    own = yaml.safe_load(b.settings_file.read_text())
    return {"kubeconfig": own["kubernetes"]["kubeconfig"], **{name: own[name] for name in SERVERS}, **more}


def two_clusters(a: Settings, b: Sandbox, **more: dict[str, Any]) -> Settings:
    """`a`'s settings naming two clusters: a (the default; the install's servers) and b (its own servers)."""
    clusters = {"a": ClusterSettings(kubeconfig=a.kubernetes.kubeconfig),
                "b": ClusterSettings.model_validate(servers_of(b, **more))}
    return a.model_copy(update={"kubernetes": a.kubernetes.model_copy(
        update={"clusters": clusters, "default_cluster": "a"})})
