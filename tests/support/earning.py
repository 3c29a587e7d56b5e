"""A policy that lets a crash loop's rollback in `shop` run by itself once its verified track record holds (the
sandbox's demo policy with one rule in front), and a track record seeded through outcome learning's own API."""

from __future__ import annotations

from pathlib import Path

from knowledge.outcomes import Outcomes
from sandbox.manager import DEMO_POLICY

EARNED = """rules:
  - when: {tier: [T3], severity: [P1, P2, P3], namespace: [shop], tool: [k8s_rollback],
           failure_mode: [crashloopbackoff]}
    decide: allow
    mode: MODE
    track_record: {min_verified: 10, min_success: 0.9, no_failure_within: 24h}
    approvers: {roles: [oncall-lead, admin], count: 1, expires: 15m}
    reason: "a crash loop's rollback in shop has earned running by itself"
"""
REASON = "a crash loop's rollback in shop has earned running by itself"


def earning_policy(folder: Path, mode: str = "enforce") -> Path:
    """The demo policy with the rule above first, a 2-minute verification window, and a rollback cooldown short
    enough that the undo of a rollback that did not fix it can be proposed when the window ends."""
    text = DEMO_POLICY.read_text()
    for old, new in (("rules:\n", EARNED.replace("MODE", mode)), ("window: 10m", "window: 2m"),
                     ("    k8s_rollback: 15m\n", "    k8s_rollback: 1m\n")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / "earning-policy.yaml"
    path.write_text(text)
    return path


def seed(outcomes: Outcomes, fixed: int = 10, failed: int = 0) -> None:
    """Verified outcomes of crashloopbackoff's k8s_rollback, as verification records them."""
    for i in range(fixed + failed):
        outcomes.record_once("crashloopbackoff", "k8s_rollback", f"seeded-{i}", i < fixed)
