"""Follow-up reads for admission: a controller that cannot create pods because the namespace's ResourceQuota
is spent, a LimitRange forbids the pod's limits, or a validating webhook cannot be called (FailedCreate events,
a ReplicaFailure condition) leads to that quota, the namespace's LimitRanges, or the webhook's Service and the
pod behind it. (A missing ServiceAccount needs no read: the refusal names it.)"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.triage.results import Check, described, ok, pods_behind
from tools.base import ToolResult

QUOTA = re.compile(r"(?:[Ee]xceeded quota|[Ff]ailed quota): ([a-z0-9][-a-z0-9.]*)[,:]")
LIMIT_RANGE = re.compile(r"(?:maximum|minimum) \S+ usage per (?:Container|Pod) is")
# the ServiceAccount admission plugin's words, and a validating webhook the API server could not call
SERVICE_ACCOUNT = re.compile(r'error looking up service account ([a-z0-9][-a-z0-9]*)/([a-z0-9][-a-z0-9.]*): '
                             r'serviceaccount "[^"]+" not found')
WEBHOOK = re.compile(r'failed calling webhook "([^"]+)": (?:failed to call webhook: )?Post "?https://'
                     r'([a-z0-9][-a-z0-9]*)\.([a-z0-9][-a-z0-9]*)\.svc\b')


def refusals(results: list[ToolResult]) -> Iterator[tuple[str, str, str]]:
    """(namespace, the object that could not create a pod, message) of every such failure the reads show:
    FailedCreate events (of the namespace or an object described), and ReplicaFailure conditions."""
    for d in ok(results, "k8s_events"):
        for e in d.get("events", []):
            if e.get("reason") == "FailedCreate":
                yield d.get("namespace") or "", str(e.get("object", "")).split("/")[-1], str(e.get("message"))
    for d in ok(results, "k8s_describe"):
        for e in d.get("events", []):
            if e.get("reason") == "FailedCreate":
                yield d.get("namespace") or "", d.get("name") or "", str(e.get("message"))
        for c in d.get("conditions", []):
            if c.get("type") == "ReplicaFailure" and c.get("status") == "True":
                yield d.get("namespace") or "", d.get("name") or "", str(c.get("message"))


def reads(results: list[ToolResult]) -> list[Check]:
    checks: list[Check] = []
    for ns, _, message in refusals(results):
        if not ns:
            continue
        if m := QUOTA.search(message):
            checks.append(("k8s_describe", {"kind": "ResourceQuota", "namespace": ns, "name": m.group(1)}))
        if LIMIT_RANGE.search(message):
            checks.append(("k8s_list", {"kind": "LimitRange", "namespace": ns}))
            listed = [i["name"] for d in ok(results, "k8s_list") if d.get("kind") == "LimitRange"
                      and d.get("namespace") == ns for i in d.get("items", [])]
            checks += [("k8s_describe", {"kind": "LimitRange", "namespace": ns, "name": n}) for n in listed[:2]]
        if m := WEBHOOK.search(message):
            checks.append(("k8s_describe", {"kind": "Service", "namespace": m.group(3), "name": m.group(2)}))
    hooks = {(m.group(3), m.group(2)) for _, _, message in refusals(results) if (m := WEBHOOK.search(message))}
    for d in described(results, "Service"):
        if (d["namespace"], d["name"]) in hooks:
            checks += pods_behind(d)
    return checks
