"""Admission: a controller cannot create pods because the namespace's ResourceQuota is spent, or a LimitRange
forbids the pods' limits; the workload shows fewer pods than it wants and no pod at all for the rest."""

from __future__ import annotations

import re

from bot.triage.follow.quota import LIMIT_RANGE, QUOTA, refusals
from bot.triage.quotes import resources
from bot.triage.results import described
from bot.triage.rules.base import Diagnosis, Reader

MUST_SPECIFY = re.compile(r"must specify (\S+)")
REQUESTED = re.compile(r"requested: (\S+), used:")
LIMIT = re.compile(r"(maximum|minimum) (\S+) usage per (Container|Pod) is (\S+?)[,.]")


def _short(r: Reader) -> list[str]:
    """The workloads that have fewer pods than they want, and what their pods ask for."""
    out = [f"Deployment {d['namespace']}/{d['name']}: {d['replicas'].get('current', 0)} pods of "
           f"{d['replicas'].get('desired')} desired; no pod exists for the rest" for d in r.deployments
           if d.get("replicas", {}).get("current", 0) < d.get("replicas", {}).get("desired", 0)]
    return out + [x for p in r.pods[:1] for c in p.get("containers", []) if (x := resources(c))]


def _refusals(r: Reader) -> list[tuple[str, str]]:
    """(namespace, message) of the pods that could not be created for the alert's workload (any, when it
    names none): a quota refusing someone else's pods is not this alert's cause."""
    mine = r.target.workload
    return [(ns, message) for ns, obj, message in refusals(r.results)
            if not mine or obj == mine or obj.startswith(f"{mine}-")]


def quota(r: Reader) -> Diagnosis | None:
    for ns, message in _refusals(r):
        m = QUOTA.search(message)
        q = next((q for q in described(r.results, "ResourceQuota") if m and q["name"] == m.group(1)
                  and q["namespace"] == ns), None)
        if q is None:
            continue
        asked = REQUESTED.search(message)  # the resources the quota refused, as "limits.memory=2Gi,…"
        named = {x.split("=", 1)[0] for x in asked.group(1).split(",")} if asked else set()
        spent = [u for u in q.get("resources", []) if u["resource"] in named or (not named and u.get("spent"))]
        usage = "; ".join(f"{u['resource']} used {u['used']} of hard {u['hard']}" for u in spent)
        unspecified = MUST_SPECIFY.search(message)
        advice = (f"give every container of the pod {unspecified.group(1)} (ResourceQuota {q['name']} tracks them "
                  "and refuses pods without), or a LimitRange with defaults for them" if unspecified else
                  f"raise ResourceQuota {q['name']}'s hard limit ({usage}), free room in namespace {ns}, or lower "
                  "the pods' requests/limits")
        return r.make("quota-exceeded", f"ResourceQuota {ns}/{q['name']}", message.split("Error creating: ")[-1],
                      [f"ResourceQuota {ns}/{q['name']}: {usage}" if usage else "", *_short(r)],
                      f"{advice}; the controller retries by itself; restarting or scaling up only asks for more",
                      False)
    return None


def limit_range(r: Reader) -> Diagnosis | None:
    for ns, message in _refusals(r):
        if not LIMIT_RANGE.search(message):
            continue
        m = LIMIT.search(message)
        ranges = [lr for lr in described(r.results, "LimitRange") if lr["namespace"] == ns]
        bound = m.group(1)[:3] if m else ""
        lr = next((lr for lr in ranges for x in lr.get("limits", []) if m and x["resource"] == m.group(2)
                   and x.get(bound) == m.group(4)), ranges[0] if ranges else None)
        if lr is None:
            continue
        return r.make("limitrange-rejected", f"LimitRange {ns}/{lr['name']}", message.split("Error creating: ")[-1],
                      [*(f"LimitRange {ns}/{lr['name']}: {x['type']} {x['resource']} min {x.get('min') or '-'} "
                         f"max {x.get('max') or '-'}" for x in lr.get("limits", [])), *_short(r)],
                      f"lower the containers' {m.group(2) if m else 'resource'} limit to what LimitRange {lr['name']} "
                      "allows, or change the LimitRange; the controller retries by itself", False)
    return None
