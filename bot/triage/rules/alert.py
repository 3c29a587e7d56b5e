"""What the alert alone says when every object read looks healthy: CPU throttling against the container's
limit; latency or errors that a release began (the rollback fits); else the cause was not found, with the
most telling lines of the alerted workload and its followed neighbours, never a nearby mode's advice."""

from __future__ import annotations

import re

from bot.cards.strings import CAUSE_NOT_FOUND, CAUSE_NOT_FOUND_ADVICE, CAUSE_NOT_FOUND_QUOTED, FROM_ALERT_ALONE
from bot.triage.quotes import telling
from bot.triage.rules.base import Diagnosis, Reader
from tools.base import Status

NOT_FOUND = "cause-not-found"


def throttling(r: Reader) -> Diagnosis | None:
    if not r.alert.name.startswith("CPUThrottling"):
        return None
    c = r.alert.labels.get("container", "")
    limits = [(x.get("limits") or {}).get("cpu") for p in r.pods for x in p.get("containers", [])
              if x["name"] == c]
    return r.make("cpu-throttling", r.about(), f"container {c} throttled; CPU limit {limits[0] if limits else '?'}",
                  [], f"raise or remove the CPU limit of container {c} (now "
                  f"{limits[0] if limits else 'unknown'}), or find what uses more CPU", False)


def _speaks_of(r: Reader) -> str | None:
    said = f"{r.alert.name} {r.alert.expr or ''}"
    if re.search(r"(?i)latency|duration|slow", said):
        return "latency"
    if re.search(r"(?i)error|5\.\.|5xx|status=~?\"5", said):
        return "errors"
    return None


def symptom(r: Reader) -> Diagnosis | None:
    """Latency or errors whose start a release of the alert's own workload began (its revisions were read):
    the release's mode, with the rollback. Without a release read to begin it, the cause is not found."""
    what = _speaks_of(r)
    mode = {"latency": "latency-regression", "errors": "http-5xx-spike"}.get(what or "")
    if mode is None:
        return None
    release = r.released()
    if release is None:
        return None
    number = release["rollback"].get("began_revision")
    image = next((x.get("image") for x in release.get("revisions", []) if x.get("revision") == number),
                 release.get("image"))
    summary = (f"{FROM_ALERT_ALONE.format(what=what)}; revision {number} of Deployment {release['namespace']}/"
               f"{release['name']} ({image}) began just before it")
    return r.make(mode, r.about(), summary, telling(r.own_logs, 3),
                  "roll back the release, then fix what it changed", basis="alert")


def not_found(r: Reader) -> Diagnosis | None:
    """No rule recognised the state: say so, quote the most telling lines of the alert's own workload and of
    its followed neighbours (never an unrelated pod's), propose nothing."""
    reads = [x for x in r.results if x.status != Status.error]
    if not reads:
        return None
    quotes = telling(r.own_logs, 4) + telling(r.neighbour_logs, 2)
    summary = CAUSE_NOT_FOUND.format(what=_speaks_of(r) or r.alert.name, reads=len(reads)) + \
        (CAUSE_NOT_FOUND_QUOTED if quotes else "")
    return r.make(NOT_FOUND, r.about(), summary, quotes, CAUSE_NOT_FOUND_ADVICE, False, "alert")
