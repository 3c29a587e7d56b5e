"""Since when: the release that began a failure, read from its workload's rollback plan (k8s_describe), in words
the card's headline uses ("began with release 1.5.0, 25 min before the alert")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cards import strings as S
from bot.triage.results import described
from bot.triage.rules.base import RELEASE_MODES, RELEASE_WINDOW, Diagnosis
from tools.base import ToolResult


def _ago(delta: timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def began(d: Diagnosis | None, results: list[ToolResult], start: datetime | None) -> str | None:
    """The revision whose pod template began a failure a release can cause, when it was made within the release
    window before the alert's start: its change cause (or image) and how long before; else None."""
    if d is None or d.mode not in RELEASE_MODES:
        return None
    start = start or datetime.now(UTC)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    for dep in described(results, "Deployment"):
        plan = dep.get("rollback") or {}
        if not plan.get("began_created"):
            continue
        at = datetime.fromisoformat(plan["began_created"].replace("Z", "+00:00"))
        if not (at <= start + timedelta(minutes=5) and start - at <= RELEASE_WINDOW):
            continue
        row = next((r for r in dep.get("revisions", []) if r.get("revision") == plan.get("began_revision")), {})
        cause = (row.get("change_cause") or "").split(":")[0].strip()
        release = cause if cause.startswith("release") else \
            S.REVISION.format(number=plan.get("began_revision"), image=row.get("image") or "?")
        return S.BEGAN.format(release=release, ago=_ago(start - at))
    return None
