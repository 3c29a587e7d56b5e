"""The one Card model: everything a renderer may show about an incident, and nothing platform-specific."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.intake.alert import Link

CheckStatus = Literal["ok", "no_data", "error"]


class EvidenceLine(BaseModel):
    check: str = Field(description="which check said it, e.g. 'k8s_list shop/checkout'")
    text: str
    status: CheckStatus = "ok"


class SimilarIncident(BaseModel):
    id: str
    title: str
    resolution: str | None = None
    score: float | None = None


class PlaybookRef(BaseModel):
    name: str
    title: str
    steps: list[str] = Field(default_factory=list)
    url: str | None = None


class Analysis(BaseModel):
    """The model's reading of the evidence (optional: without a model the card carries the evidence alone)."""

    summary: str
    root_cause: str
    confidence: float = Field(ge=0, le=1)
    impact: str = ""
    fix: str = ""
    prevention: str = ""


class CardAction(BaseModel):
    """A proposed action as the card shows it; the decision itself stays server-side (bot.actions)."""

    tool: str
    summary: str
    args: dict[str, Any] = Field(default_factory=dict, description="the tool's arguments, as proposed")
    action_id: str | None = Field(None, description="the pending action's id: what the buttons carry")
    status: Literal["pending", "denied", "executed", "failed", "approved", "expired", "error"] = "pending"
    reason: str = Field("", description="the policy's reason for the decision")
    why: str = Field("", description="why triage proposes it (playbook, analysis)")
    decided_by: list[str] = Field(default_factory=list)
    outcome: str | None = None


class Card(BaseModel):
    incident_id: str
    title: str
    severity: str
    status: Literal["firing", "resolved"]
    source: str
    failing: str = Field(description="what is failing, in one or two sentences")
    labels: dict[str, str] = Field(default_factory=dict)
    failure_mode: str | None = Field(None, description="what the object's state shows, e.g. imagepullbackoff")
    diagnosis: str | None = Field(None, description="the failure mode and the object, in one line")
    advice: str | None = Field(None, description="what a person should do when no action of opsbot's fixes it")
    evidence: list[EvidenceLine] = Field(default_factory=list)
    could_not_run: list[str] = Field(default_factory=list, description="checks whose backend was down, and why")
    similar: list[SimilarIncident] = Field(default_factory=list)
    playbook: PlaybookRef | None = None
    analysis: Analysis | None = None
    analysis_note: str | None = Field(None, description="why there is no analysis (no model, timeout)")
    actions: list[CardAction] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list, description="e.g. flapping, said once")
    count: int = 1
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    updated_at: datetime
    sentry_issue_id: str | None = None
    made_from: str | None = Field(None, description="the stream entry whose triage built this card (idempotency)")
    version: int = Field(0, description="bumped by every publish; what the platforms show is the highest")

    @property
    def main_link(self) -> str | None:
        return self.links[0].url if self.links else None
