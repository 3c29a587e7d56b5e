"""A past incident as the knowledge store keeps it: what happened, why, what was done, how it ended, and what people
said of it (their latest feedback mark)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.feedback import Feedback

Outcome = Literal["resolved", "mitigated", "unresolved", "false_positive"]


class Incident(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="the incident's id, e.g. its fingerprint")
    title: str = Field(min_length=3, description="what happened, in one line")
    kind: str = Field(description="the incident kind: the playbook name, e.g. 'crashloopbackoff'")
    alert: str | None = None
    service: str | None = None
    namespace: str | None = None
    severity: str | None = None
    root_cause: str = ""
    evidence: list[str] = Field(default_factory=list, description="short facts, e.g. 'exit 137 OOMKilled'")
    actions: list[str] = Field(default_factory=list, description="actions taken, e.g. 'k8s_rollback shop/checkout'")
    outcome: Outcome
    started_at: datetime
    resolved_at: datetime | None = None
    feedback: Feedback | None = Field(None, description="people's latest mark on it: right or wrong cause, false "
                                      "alarm, not actionable (knowledge/feedback.py)")

    @property
    def time_to_resolve_s(self) -> int | None:
        return int((self.resolved_at - self.started_at).total_seconds()) if self.resolved_at else None

    def marked(self, feedback: Feedback) -> Incident:
        """This incident with people's latest mark: a false alarm's outcome is "false_positive" (and back to
        "resolved" when it is marked otherwise later)."""
        outcome = "false_positive" if feedback.mark == "false_alarm" else \
            "resolved" if self.outcome == "false_positive" else self.outcome
        return self.model_copy(update={"feedback": feedback, "outcome": outcome})

    def document(self) -> str:
        """The text that is embedded: the parts a later on-call engineer would search by."""
        parts = [self.title]
        if self.root_cause:
            parts.append(f"Root cause: {self.root_cause}")
        if self.evidence:
            parts.append("Evidence: " + "; ".join(self.evidence))
        if self.actions:
            parts.append("Actions: " + "; ".join(self.actions))
        parts.append(f"Outcome: {self.outcome}")
        if self.feedback:
            parts.append(f"Feedback: {self.feedback.words}" + (f" ({self.feedback.note})" if self.feedback.note else ""))
        return ". ".join(parts)

    def metadata(self) -> dict[str, Any]:
        """Filterable fields (Chroma metadata: no None values) plus the whole record for a faithful read-back."""
        meta: dict[str, Any] = {
            "kind": self.kind,
            "outcome": self.outcome,
            "started_at": self.started_at.timestamp(),
            "record": self.model_dump_json(),
        }
        for key in ("alert", "service", "namespace", "severity"):
            if getattr(self, key):
                meta[key] = getattr(self, key)
        if self.feedback:
            meta["feedback"] = self.feedback.mark
        if self.time_to_resolve_s is not None:
            meta["time_to_resolve_s"] = self.time_to_resolve_s
        return meta
