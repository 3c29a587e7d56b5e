"""Admission: a controller cannot create pods because the namespace's ResourceQuota is spent, a LimitRange
forbids the pods' limits, the pods' ServiceAccount does not exist, or a validating webhook refuses them or
cannot be called; the workload shows fewer pods than it wants (or a new revision with none) and no pod at all
for the rest."""

from __future__ import annotations

import re

from bot.triage.follow.quota import LIMIT_RANGE, QUOTA, SERVICE_ACCOUNT, WEBHOOK, refusals
from bot.triage.quotes import resources
from bot.triage.results import described, endpoint_pods
from bot.triage.rules.base import Diagnosis, Reader

MUST_SPECIFY = re.compile(r"must specify (\S+)")
REQUESTED = re.compile(r"requested: (\S+), used:")
LIMIT = re.compile(r"(maximum|minimum) (\S+) usage per (Container|Pod) is (\S+?)[,.]")
DENIED = re.compile(r'admission webhook "([^"]+)" denied the request')
RETRIES = "the controller retries by itself"


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


def service_account(r: Reader) -> Diagnosis | None:
    """The pods name a ServiceAccount that does not exist: the ServiceAccount admission plugin refuses each."""
    for _, message in _refusals(r):
        if not (m := SERVICE_ACCOUNT.search(message)):
            continue
        ns, account = m.groups()
        workload = next((f"Deployment {d['namespace']}/{d['name']}" for d in r.deployments), None)
        return r.make("serviceaccount-missing", f"ServiceAccount {ns}/{account}", message.split("Error creating: ")[-1],
                      _short(r), f"create ServiceAccount {ns}/{account} (with the roles its pods need), or set the "
                      f"pods' serviceAccountName to one that exists; {RETRIES}", workload=workload)
    return None


def webhook(r: Reader) -> Diagnosis | None:
    """A validating webhook refuses the pods, or the API server cannot call it (failurePolicy Fail): its
    Service with no ready endpoint, and why its pods are not ready."""
    for _, message in _refusals(r):
        summary = message.split("Error creating: ")[-1]
        if m := WEBHOOK.search(message):
            hook, name, ns = m.groups()
            service = next((d for d in described(r.results, "Service") if (d["namespace"], d["name"]) == (ns, name)),
                           None)
            ready, not_ready = endpoint_pods(service) if service else ([], [])
            state = (f"Service {ns}/{name}: {len(ready)} ready endpoints, not ready: {', '.join(not_ready) or 'none'}"
                     if service else "")
            return r.make("admission-webhook-refused", f"Service {ns}/{name}", summary,
                          [state, *r.dependency_lines(), *_short(r)],
                          f"bring back the pods behind Service {ns}/{name} (webhook {hook} has no ready endpoint to "
                          f"call), or set the webhook's failurePolicy to Ignore until they are; {RETRIES}; a rollback "
                          "or a restart only asks for more pods it refuses", False)
        if m := DENIED.search(message):
            return r.make("admission-webhook-refused", r.about(), summary, _short(r),
                          f"change the pods to meet webhook {m.group(1)}'s policy (its words above), or the policy; "
                          f"{RETRIES}", False)
    return None
