"""Workloads and rollouts: a Deployment whose rollout exceeded its progress deadline."""

from __future__ import annotations

from typing import Any

from bot.triage.rules.base import Diagnosis, Reader


def stalled(r: Reader) -> dict[str, Any] | None:
    """The deployment whose rollout exceeded its progress deadline, if any."""
    return next((d for d in r.deployments if any(c.get("reason") == "ProgressDeadlineExceeded"
                                                  for c in d.get("conditions", []))), None)


def rollout(r: Reader) -> Diagnosis | None:
    d = stalled(r)
    if d is None:
        return None
    deadline = next(c for c in d["conditions"] if c.get("reason") == "ProgressDeadlineExceeded")
    return r.make("failed-rollout", f"Deployment {d['namespace']}/{d['name']}",
                  f"ProgressDeadlineExceeded: {deadline.get('message')}", [],
                  "fix the new revision's pods (their events and logs), then roll out again")
