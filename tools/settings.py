"""The settings sections of the backends the tools talk to; bot.settings composes them into the one object."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Section(BaseModel):
    """A settings section: an unknown key is a mistake, reported at start-up."""

    model_config = ConfigDict(extra="forbid")


class PrometheusSettings(Section):
    url: str = "http://127.0.0.1:9090"
    bearer_token: SecretStr | None = None
    timeout_s: float = 5.0


class AlertmanagerSettings(Section):
    url: str = "http://127.0.0.1:9093"
    timeout_s: float = 5.0


class ElasticsearchSettings(Section):
    url: str = "http://127.0.0.1:9200"
    index: str = Field("logs-*", description="index or pattern that holds the log documents")
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 5.0


class KubernetesSettings(Section):
    kubeconfig: Path | None = Field(None, description="kubeconfig file; None means in-cluster config")
    context: str | None = None
    timeout_s: float = 5.0


class LimitSettings(Section):
    max_result_chars: int = Field(6000, ge=500, description="a tool result's JSON is cut to this size")
    max_items: int = Field(50, ge=1, description="default cap on listed items (pods, events, log hits)")
    max_log_lines: int = Field(200, ge=1)
