"""The settings sections of the backends the tools talk to; bot.settings composes them into the one object."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


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


class ElasticsearchSettings(Section):
    url: str = Field("http://127.0.0.1:9200", description="the Elasticsearch (or compatible) base URL")
    index: str = Field("logs-*", description="index or pattern that holds the log documents")
    username: str | None = Field(None, description="basic-auth user (with password)")
    password: SecretStr | None = Field(None, description="basic-auth password")
    api_key: SecretStr | None = Field(None, description="an API key, instead of username and password")
    timeout_s: float = Field(5.0, description="seconds a search may take")
    server_major: int | None = Field(None, ge=8, le=9, description="the server's major version (8 or 9); unset: "
                                     "read from the server (GET /) at first use")


class KubernetesSettings(Section):
    kubeconfig: Path | None = Field(None, description="kubeconfig file; None means in-cluster config")
    context: str | None = Field(None, description="kubeconfig context to use (default: the current one)")
    timeout_s: float = Field(5.0, description="seconds a Kubernetes API call may take")


class LimitSettings(Section):
    max_result_chars: int = Field(6000, ge=500, description="a tool result's JSON is cut to this size")
    max_items: int = Field(50, ge=1, description="default cap on listed items (pods, events, log hits)")
    max_log_lines: int = Field(200, ge=1, description="most log lines one pod-logs call returns")
