"""What the alert alone says when every object read looks healthy: CPU throttling against the container's
limit; latency or errors with no cause found in the objects."""

from __future__ import annotations

import re

from bot.cards.strings import FROM_ALERT_ALONE
from bot.triage.quotes import telling
from bot.triage.rules.base import Diagnosis, Reader


def throttling(r: Reader) -> Diagnosis | None:
    if not r.alert.name.startswith("CPUThrottling"):
        return None
    c = r.alert.labels.get("container", "")
    limits = [(x.get("limits") or {}).get("cpu") for p in r.pods for x in p.get("containers", [])
              if x["name"] == c]
    return r.make("cpu-throttling", r.about(), f"container {c} throttled; CPU limit {limits[0] if limits else '?'}",
                  [], f"raise or remove the CPU limit of container {c} (now "
                  f"{limits[0] if limits else 'unknown'}), or find what uses more CPU", False)


def symptom(r: Reader) -> Diagnosis | None:
    said = f"{r.alert.name} {r.alert.expr or ''}"
    latency = re.search(r"(?i)latency|duration|slow", said)
    errors = re.search(r"(?i)error|5\.\.|5xx|status=~?\"5", said)
    if not (latency or errors):
        return None
    mode = "latency-regression" if latency else "http-5xx-spike"
    return r.make(mode, r.about(), FROM_ALERT_ALONE.format(what="latency" if latency else "errors"),
                  telling(r.logs, 3), "no release started it: find what changed (traffic, a dependency, the data)",
                  basis="alert")
