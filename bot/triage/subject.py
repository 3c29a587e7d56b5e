"""What triage reads about and diagnoses: an alert (bot.intake.alert.Alert), or what someone asked about
(bot.triage.troubleshoot.Asked). Read plans, evidence and the diagnosis take either."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.intake.target import Target


class Subject(Protocol):
    name: str
    labels: Mapping[str, str]
    starts_at: datetime | None
    expr: str | None

    @property
    def target(self) -> Target: ...

    @property
    def namespace(self) -> str | None: ...

    @property
    def service(self) -> str | None: ...
