"""Dependencies: the service's calls to something else fail. The Service the calls name and the pods behind
it decide: a pod of it failing is the cause (its own decisive line; the Service without ready endpoints is why
the calls fail); its pods healthy or unread, the calls are all that is known and the card says the dependency
was not found failing; no Service of the cluster named, the cause was not found in the cluster."""

from __future__ import annotations

from typing import Any

from bot.triage.quotes import pod_logs, state_of, state_text, telling
from bot.triage.results import DEPENDENCY, described, endpoint_pods, failing_container, ok
from bot.triage.rules.base import Diagnosis, Reader


def callers(r: Reader) -> list[str]:
    """The log lines read that are not a followed dependency's own: the callers' side of a failing call."""
    theirs = {p["name"] for p in r.dependency}
    lines = {str(x) for d in ok(r.results, "k8s_pod_logs") if d.get("pod") in theirs for x in d.get("lines", [])}
    return [x for x in r.logs if x not in lines]


def failing_calls(r: Reader) -> list[str]:
    return [x for x in callers(r) if DEPENDENCY.search(x)]


# what a failing call got, most telling first ("dial tcp …: connect: connection refused" is refused)
OUTCOMES = ("connection refused", "ECONNREFUSED", "no healthy upstream", "upstream connect error", "connection reset",
            "i/o timeout", "ETIMEDOUT", "deadline exceeded", "timed out", "no route to host", "too many connections")


def how(line: str) -> str:
    """What the callers get, in their own words ("connection refused", "i/o timeout")."""
    found = next((o for o in OUTCOMES if o.lower() in line.lower()), None)
    m = DEPENDENCY.search(line)
    return found or (m.group(1) if m else "errors")


def is_dns(svc: dict[str, Any]) -> bool:
    return any(str(p.get("port")) == "53" for p in svc.get("ports") or [])


def named_services(r: Reader) -> list[dict[str, Any]]:
    """The Services described because a failing call or the caller's env named them (not the cluster DNS)."""
    return [s for s in described(r.results, "Service") if not is_dns(s)]


def behind(r: Reader, svc: dict[str, Any]) -> list[dict[str, Any]]:
    """The described pods behind a Service (its endpoints, ready or not)."""
    names = set(sum(endpoint_pods(svc), []))
    return [p for p in r.dependency if p["namespace"] == svc["namespace"] and p["name"] in names]


def sick(pods: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(p, c) for p in pods for c in [*p.get("init_containers", []), *p.get("containers", [])]
            if failing_container(c)]


def decisive(r: Reader, pod: dict[str, Any], c: dict[str, Any]) -> str | None:
    """The container's own line that says why it fails, or None: it printed nothing telling."""
    lines = telling(pod_logs(r.results, pod["name"], c["name"]), 1)
    return lines[-1] if lines else None


def endpoints_said(svc: dict[str, Any]) -> str:
    ready, not_ready = endpoint_pods(svc)
    return "has no ready endpoints" if not ready else f"has {len(ready)} of {len(ready) + len(not_ready)} " \
        "endpoints ready"


def dependency(r: Reader) -> Diagnosis | None:
    """A followed Service's failing pod is the cause, whether or not the callers' own lines were read; without
    one, the callers' failing calls say what is known (see the module doc)."""
    calls = failing_calls(r)
    services = named_services(r)
    for svc in services:
        failing = sick(behind(r, svc))
        if not failing:
            continue
        p, c = failing[0]
        where = f"{svc['namespace']}/{svc['name']}"
        line = decisive(r, p, c)
        about = (f"Pod {p['namespace']}/{p['name']} ({state_of(c).get('reason') or 'not ready'}) behind Service "
                 f"{where}, which {endpoints_said(svc)}" + (f": callers get {how(calls[0])}" if calls else ""))
        return r.make("dependency-down", about, line or state_text(c),
                      [f"{p['name']} {c['name']}: {state_text(c)}", *r.dependency_lines(), *calls[:2]],
                      f"restore Pod {p['namespace']}/{p['name']} (what its own {'line' if line else 'state'} above "
                      "names); restarting, rolling back or scaling the callers does not help", False,
                      "logs" if line else "state")
    if not calls:
        return None
    if services:
        svc = services[0]
        pods = behind(r, svc)
        seen = f"whose {len(pods)} pod(s) read are running and ready" if pods else "whose pods could not be read"
        return r.make("dependency-down", f"{r.about()} calls Service {svc['namespace']}/{svc['name']} ({seen}): "
                      "the dependency was not found failing", calls[0], [*calls[1:3], *r.dependency_lines()],
                      f"the calls to Service {svc['namespace']}/{svc['name']} fail ({how(calls[0])}) though its pods "
                      "are running and ready: read its own lines (quoted) and metrics for slowness, locks or limits, "
                      "and check the path between (NetworkPolicies, the Service's ports)", False, "logs")
    listed = any(d.get("kind") == "Service" for d in ok(r.results, "k8s_list"))
    seen = "name no Service of the cluster" if listed else "were not matched: the cluster's Services could not be read"
    return r.make("dependency-unreachable", f"{r.about()}: the failing calls {seen}; the cause was not found in the "
                  "cluster", calls[0], calls[1:3],
                  f"the calls fail with {how(calls[0])} to a host that is no Service of the cluster (the line above "
                  "names it): check that service's status and the egress path to it; restarting, rolling back or "
                  "scaling this service does not help", False, "logs")
