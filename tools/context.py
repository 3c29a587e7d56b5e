"""The per-run dependencies every tool receives: settings, backend clients and a clock.

Tools declare here what they need (`ToolSettings`, `Clients`); the application above provides it
(bot.settings.Settings and bot.backends.Backends satisfy these protocols), so this layer imports nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ToolContext:
    settings: ToolSettings
    backends: Clients
    now: Callable[[], datetime] = field(default=utc_now)
    # what tools keep between calls on this context (a namespace's Secret values, briefly): never settings
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
