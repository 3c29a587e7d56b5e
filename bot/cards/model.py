"""The one Card model: everything a renderer may show about an incident, and nothing platform-specific."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.intake.alert import Link
from bot.intake.target import Target
from knowledge.feedback import Feedback

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
    kind: str | None = Field(None, description="its kind (the playbook's name): 'like this' when it is the card's")
    started_at: datetime | None = None
    fixes: list[str] = Field(default_factory=list, description="the actions executed on it that succeeded, e.g. "
                             "'roll back shop/checkout'")
    outcome: str | None = None


class PlaybookRef(BaseModel):
    name: str
    title: str
    steps: list[str] = Field(default_factory=list)
    url: str | None = None


class TrackRecord(BaseModel):
    """What outcome learning (knowledge/outcomes.py) says of the card's kind of incident when triage made it: the
    action recommended from verified verdicts, and how often it fixed one; `action` None: the outcomes could not be
    read."""

    kind: str = Field(description="what outcomes are counted under: the playbook's name, else the alert's")
    action: str | None = Field(None, description="the tool that fixed most incidents of this kind, e.g. k8s_rollback")
    succeeded: int = 0
    total: int = 0


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
    decided_at: datetime | None = Field(None, description="when the decision (and an execution) was applied")
    outcome: str | None = None
    expires_at: datetime | None = Field(None, description="when a pending action expires unanswered")
    verdict: str | None = Field(None, description="what verification found after it ran (bot.guard.verify)")
    automatic: Literal["ran", "shadow", "paused", "unproven"] | None = Field(
        None, description="what a policy rule with a track record made of it (policies/earned.py)")


class GroupAlert(BaseModel):
    """One alert of the card's Alertmanager group, as a line: what fired on which object, and its state."""

    incident_id: str
    name: str
    subject: str = Field("", description="the object the labels name, e.g. 'Pod shop/checkout-7d9f'")
    status: Literal["firing", "resolved"]
    since: datetime | None = None


class Stamp(BaseModel):
    """Who did something to the card's alerts, and when."""

    by: str
    at: datetime


class Silenced(BaseModel):
    """An Alertmanager silence made from the card: its id, who made it, until when."""

    id: str
    by: str
    at: datetime
    until: datetime
    until_resolved: bool = Field(False, description="lifted by opsbot when the incident resolves")
    ended: datetime | None = Field(None, description="when it ended (expired, lifted or unsilenced)")
    ended_by: str | None = None
    matchers: dict[str, str] = Field(default_factory=dict, description="the labels it matches, as it was made")


class Card(BaseModel):
    incident_id: str
    title: str
    severity: str
    status: Literal["firing", "resolved"]
    source: str
    failing: str = Field(description="what is failing, in one or two sentences")
    labels: dict[str, str] = Field(default_factory=dict)
    target: Target | None = Field(None, description="the object triage resolved (its workload): what commands in "
                                  "the card's thread act on")
    failure_mode: str | None = Field(None, description="what the object's state shows, e.g. imagepullbackoff")
    diagnosis: str | None = Field(None, description="the failure mode and the object, in one line, in opsbot's "
                                  "words")
    diagnosis_basis: Literal["state", "logs", "alert"] = Field("state", description="what the diagnosis rests on: "
                                                               "the objects' state, a log line, or the alert alone")
    diagnosis_source: str | None = Field(None, description="the source's words it rests on (a log line), word for "
                                         "word: shown quoted, never as opsbot's")
    advice: str | None = Field(None, description="what a person should do when no action of opsbot's fixes it")
    cause_object: str | None = Field(None, description="the object the diagnosis names (the diagnosis' `about`)")
    cause_words: str | None = Field(None, description="the decisive state or line the diagnosis rests on (its "
                                    "`summary`): what the card's headline quotes")
    began: str | None = Field(None, description="since when, in opsbot's words: the release that began it and how "
                              "long before the alert")
    evidence: list[EvidenceLine] = Field(default_factory=list)
    could_not_run: list[str] = Field(default_factory=list, description="checks whose backend was down, and why")
    similar: list[SimilarIncident] = Field(default_factory=list)
    playbook: PlaybookRef | None = None
    track_record: TrackRecord | None = Field(None, description="the recommendation from past verified outcomes of "
                                             "this kind, beside triage's own proposals; None: no track record")
    analysis: Analysis | None = None
    analysis_note: str | None = Field(None, description="why there is no analysis (no model, timeout)")
    actions: list[CardAction] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list, description="e.g. flapping, said once")
    common_labels: dict[str, str] = Field(default_factory=dict, description="the labels every alert of its group "
                                          "shares (Alertmanager's commonLabels): what silencing the group matches")
    silenceable: bool = Field(False, description="the policy's silences allow these alerts (they are not among those "
                              "never silenced): the card offers Silence buttons")
    acknowledged: Stamp | None = None
    silence: Silenced | None = None
    feedback: Feedback | None = Field(None, description="people's latest mark on the incident (bot.guard.feedback)")
    group: list[GroupAlert] = Field(default_factory=list, description="the alerts of this card's Alertmanager "
                                    "group, its own included; empty on a card of one alert")
    count: int = 1
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    updated_at: datetime
    sentry_issue_id: str | None = None
    cluster: str | None = Field(None, description="the cluster the alert named (settings kubernetes.clusters), "
                                "which its reads and actions went to; None: one cluster, or the default's")
    made_from: str | None = Field(None, description="the stream entry whose triage built this card (idempotency)")
    version: int = Field(0, description="bumped by every publish; what the platforms show is the highest")

    @property
    def main_link(self) -> str | None:
        return self.links[0].url if self.links else None
