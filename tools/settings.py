"""The settings sections of the backends the tools talk to; bot.settings composes them into the one object."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Section(BaseModel):
    """A settings section: an unknown key is a mistake, reported at start-up."""

    model_config = ConfigDict(extra="forbid")


class PrometheusSettings(Section):
    url: str = Field("http://127.0.0.1:9090", description="the Prometheus HTTP API base URL")
    bearer_token: SecretStr | None = Field(None,
        description="sent as Authorization: Bearer, for a Prometheus behind an auth proxy")
    timeout_s: float = Field(5.0, description="seconds a query may take before it is reported as not answered")


class AlertmanagerSettings(Section):
    url: str = Field("http://127.0.0.1:9093", description="the Alertmanager API base URL (alerts, silences)")
    timeout_s: float = Field(5.0, description="seconds an Alertmanager call may take")


class LogsSettings(Section):
    backend: Literal["elasticsearch", "opensearch", "loki"] = Field("elasticsearch", description="where "
        "logs_search reads logs: the `elasticsearch`, `opensearch` or `loki` section's server")


class IndexSettings(Section):
    """What an Elasticsearch or OpenSearch log store is reached with."""

    url: str = Field("http://127.0.0.1:9200", description="the server's base URL")
    index: str = Field("logs-*", description="index or pattern that holds the log documents")
    username: str | None = Field(None, description="basic-auth user (with password)")
    password: SecretStr | None = Field(None, description="basic-auth password")
    timeout_s: float = Field(5.0, description="seconds a search may take")


class ElasticsearchSettings(IndexSettings):
    api_key: SecretStr | None = Field(None, description="an API key, instead of username and password")
    server_major: int | None = Field(None, ge=8, le=9, description="the server's major version (8 or 9); unset: "
                                     "read from the server (GET /) at first use")


class OpenSearchSettings(IndexSettings):
    """OpenSearch, read through its own client (opensearch-py) with the same queries as Elasticsearch."""


class LokiSettings(Section):
    url: str = Field("http://127.0.0.1:3100", description="the Loki HTTP API base URL")
    tenant: str | None = Field(None, description="sent as X-Scope-OrgID, for a multi-tenant Loki")
    timeout_s: float = Field(5.0, description="seconds a query may take")
    namespace_label: str = Field("namespace", description="the stream label that holds the Kubernetes namespace")
    pod_label: str = Field("pod", description="the stream label that holds the pod name")
    service_label: str = Field("app", description="the label that holds the service name (`app`, `container`, "
                               "`service_name`, as your shipper sets it)")
    level_label: str = Field("level", description="the label (stream or extracted) that holds the log level")


class ClusterReach(Section):
    """How a cluster's API server is reached: a kubeconfig (and context), or the in-cluster config."""

    kubeconfig: Path | None = Field(None, description="kubeconfig file; None means in-cluster config")
    context: str | None = Field(None, description="kubeconfig context to use (default: the current one)")


class ClusterSettings(ClusterReach):
    """One named cluster: its API server, and the metrics and log servers of its own (each optional: a section
    it leaves out is the install's, shared by every cluster)."""

    prometheus: PrometheusSettings | None = Field(None, description="this cluster's Prometheus (default: the "
                                                  "install's `prometheus`)")
    alertmanager: AlertmanagerSettings | None = Field(None, description="this cluster's Alertmanager (default: "
                                                      "the install's `alertmanager`)")
    logs: LogsSettings | None = Field(None, description="which store this cluster's logs are in (default: the "
                                      "install's `logs`)")
    elasticsearch: ElasticsearchSettings | None = Field(None, description="this cluster's Elasticsearch "
                                                        "(default: the install's)")
    opensearch: OpenSearchSettings | None = Field(None, description="this cluster's OpenSearch (default: the "
                                                  "install's)")
    loki: LokiSettings | None = Field(None, description="this cluster's Loki (default: the install's)")

    def own_servers(self) -> dict[str, Section]:
        """The settings sections this cluster names for itself, by section name (`prometheus`, `loki`, ...)."""
        return {name: getattr(self, name) for name in SERVERS if getattr(self, name) is not None}


SERVERS = ("prometheus", "alertmanager", "logs", "elasticsearch", "opensearch", "loki")


class KubernetesSettings(ClusterReach):
    """The one cluster (kubeconfig/context), or several named ones (`clusters`) with one default."""

    timeout_s: float = Field(5.0, description="seconds a Kubernetes API call may take")
    clusters: dict[str, ClusterSettings] = Field(default_factory=dict, description="named clusters, each {kubeconfig, "
                                                 "context} (no kubeconfig: in-cluster) and, optionally, its own "
                                                 "prometheus, alertmanager, logs and log store sections; alerts and "
                                                 "tools choose one by name (docs/kubernetes.md); empty: the one "
                                                 "cluster `kubeconfig` and `context` name")
    default_cluster: str | None = Field(None, description="the cluster a call without `cluster` goes to (default: "
                                        "the first of `clusters`)")
    cluster_label: str = Field("cluster", description="the alert label that names an alert's cluster")

    @model_validator(mode="after")
    def _default_is_known(self) -> KubernetesSettings:
        if self.default_cluster is not None and self.default_cluster not in self.clusters:
            known = ", ".join(self.clusters) or "none (kubernetes.clusters is empty)"
            raise ValueError(f"kubernetes.default_cluster {self.default_cluster!r} is not one of kubernetes.clusters: "
                             f"{known}")
        own = self.clusters[self.default].own_servers() if self.default is not None else {}
        if own:
            raise ValueError(f"kubernetes.clusters.{self.default} is the default cluster: its {', '.join(own)} "
                             f"are the install's own sections; set them at the top level, not under the cluster")
        return self

    @property
    def default(self) -> str | None:
        """The default cluster's name; None when no clusters are named (the one cluster above)."""
        return self.default_cluster or next(iter(self.clusters), None)

    def reach(self, cluster: str | None) -> ClusterReach:
        """How the named cluster (None: the default) is reached."""
        name = cluster or self.default
        return self.clusters[name] if name is not None else self


class LimitSettings(Section):
    max_result_chars: int = Field(6000, ge=500, description="a tool result's JSON is cut to this size")
    max_items: int = Field(50, ge=1, description="default cap on listed items (pods, events, log hits)")
    max_log_lines: int = Field(200, ge=1, description="most log lines one pod-logs call returns")
