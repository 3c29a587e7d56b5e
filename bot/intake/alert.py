"""The one alert model every intake parses into: Alertmanager and Sentry alike, with secrets masked on entry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from bot.intake.target import Target, from_labels, workload_name
from bot.redact import redact, redact_data
from policies.schema import Severity

Source = Literal["alertmanager", "sentry"]
AlertStatus = Literal["firing", "resolved"]


class Link(BaseModel):
    title: str
    url: str


class Alert(BaseModel):
    source: Source
    name: str = Field(description="alertname, or the Sentry issue/alert title")
    status: AlertStatus
    severity: Severity = Field(description="from the policy's severity mapping, never from model output")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    fingerprint: str = Field(description="bot.intake.fingerprint over the identifying labels")
    links: list[Link] = Field(default_factory=list)
    raw_ids: dict[str, str] = Field(default_factory=dict, description="ids at the source: am_fingerprint, "
                                    "group_key, sentry_issue_id, sentry_request_id ...")
    expr: str | None = Field(None, description="the PromQL that fired (from Alertmanager's generatorURL)")
    common_labels: dict[str, str] = Field(default_factory=dict, description="labels every alert of the same "
                                          "Alertmanager notification shares (commonLabels)")
    group_truncated: int = Field(0, description="alerts of the same Alertmanager group left out of the payload "
                                 "(truncatedAlerts, the receiver's max_alerts)")
    received_at: datetime | None = None

    @field_validator("name", "expr")
    @classmethod
    def _masked_text(cls, value: str | None) -> str | None:
        return redact(value) if value else value

    @field_validator("labels", "annotations", "common_labels")
    @classmethod
    def _masked_map(cls, value: dict[str, str]) -> dict[str, str]:
        """Redact at the source: cards, Sentry comments, knowledge, Redis and the model see only this."""
        return redact_data(value)

    @property
    def namespace(self) -> str | None:
        return self.labels.get("namespace")

    @property
    def service(self) -> str | None:
        return workload_name(self.labels)

    @property
    def target(self) -> Target:
        return from_labels(self.labels)

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or self.name

    @property
    def sentry_issue_id(self) -> str | None:
        return self.raw_ids.get("sentry_issue_id")
