"""The per-run dependencies every tool receives: settings, backend clients and a clock.

Tools declare here what they need (`ToolSettings`, `Clients`); the application above provides it
(bot.settings.Settings and bot.backends.Backends satisfy these protocols), so this layer imports nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx
    from elasticsearch import Elasticsearch
    from kubernetes import client as k8s_client
    from opensearchpy import OpenSearch
    from prometheus_api_client import PrometheusConnect

    from knowledge.settings import KnowledgeSettings
    from knowledge.store import KnowledgeStore
    from tools.settings import (
        AlertmanagerSettings,
        ElasticsearchSettings,
        KubernetesSettings,
        LimitSettings,
        LogsSettings,
        LokiSettings,
        OpenSearchSettings,
        PrometheusSettings,
    )


class ToolSettings(Protocol):
    """The settings sections tools read."""

    @property
    def prometheus(self) -> PrometheusSettings: ...
    @property
    def alertmanager(self) -> AlertmanagerSettings: ...
    @property
    def logs(self) -> LogsSettings: ...
    @property
    def elasticsearch(self) -> ElasticsearchSettings: ...
    @property
    def opensearch(self) -> OpenSearchSettings: ...
    @property
    def loki(self) -> LokiSettings: ...
    @property
    def kubernetes(self) -> KubernetesSettings: ...
    @property
    def limits(self) -> LimitSettings: ...
    @property
    def knowledge(self) -> KnowledgeSettings: ...
    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any: ...


class Clients(Protocol):
    """The backend clients tools call, built by the application; tools never build them."""

    @property
    def prometheus(self) -> PrometheusConnect: ...
    @property
    def alertmanager(self) -> httpx.Client: ...
    @property
    def elasticsearch(self) -> Elasticsearch: ...
    @property
    def opensearch(self) -> OpenSearch: ...
    @property
    def loki(self) -> httpx.Client: ...
    @property
    def kubernetes(self) -> k8s_client.ApiClient: ...
    @property
    def core_v1(self) -> k8s_client.CoreV1Api: ...
    @property
    def apps_v1(self) -> k8s_client.AppsV1Api: ...
    @property
    def kubernetes_url(self) -> str: ...
    @property
    def knowledge(self) -> KnowledgeStore: ...
    def on_cluster(self, name: str) -> Clients: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ToolContext:
    settings: ToolSettings
    backends: Clients
    now: Callable[[], datetime] = field(default=utc_now)
    # what tools keep between calls on this context (a namespace's Secret values, briefly): never settings
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def on_cluster(self, name: str | None) -> ToolContext:
        """This context on the named cluster (None: the default one): its Kubernetes clients, and its own
        Prometheus, Alertmanager and log store where its settings name them (else the install's), its memo its
        own; an unknown name is a LookupError naming the clusters the settings know."""
        k8s = self.settings.kubernetes
        if name is None or name == k8s.default:
            return self
        if name not in k8s.clusters:
            known = ", ".join(k8s.clusters) or "none: kubernetes.clusters names no cluster"
            raise LookupError(f"no cluster {name!r}; clusters: {known}")
        memo = self.memo.setdefault(f"cluster:{name}", {})
        settings = self.settings.model_copy(update=k8s.clusters[name].own_servers())
        return replace(self, settings=settings, backends=self.backends.on_cluster(name), memo=memo)
