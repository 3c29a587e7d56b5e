"""Services: callers cannot reach a Service whose pods are fine, because of the Service itself: its selector
matches no pod (no endpoints at all, so connections are refused), or its target port is one its ready pods do
not declare (the endpoints are ready, the port refuses)."""

from __future__ import annotations

from bot.triage.results import endpoint_pods
from bot.triage.rules.base import Diagnosis, Reader
from bot.triage.rules.dependencies import failing_calls, how, named_services


def _terms(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def selector(r: Reader) -> Diagnosis | None:
    """The selector matches no pod at all (k8s_describe counted them): not pods that exist and are not ready,
    which is the dependency's own failure."""
    calls = failing_calls(r)
    for svc in named_services(r) if calls else []:
        if not svc.get("selector") or svc.get("pods_matched") != 0:
            continue
        ns, terms = svc["namespace"], _terms(svc["selector"])
        near = [f"pods of {c['workload'].replace('/', f' {ns}/', 1)} are labelled {_terms(c['labels'])}"
                for c in svc.get("closest") or [] if c.get("labels")]
        summary = f"selector {terms} matches no pod, so it has no endpoints and callers get {how(calls[0])}"
        return r.make("service-selector-mismatch", f"Service {ns}/{svc['name']}",
                      summary + (f"; {near[0]}" if near else ""), [*near[1:], *calls[:3]],
                      f"make Service {ns}/{svc['name']}'s selector ({terms}) match the labels of the pods it should "
                      "reach (or those pods' template labels match it); restarting, rolling back or scaling the "
                      "callers does not help", False)
    return None


def target_port(r: Reader) -> Diagnosis | None:
    """Ready endpoints refuse the connection and the Service targets a port none of its pods declares."""
    calls = [x for x in failing_calls(r) if "refused" in how(x).lower()]
    for svc in named_services(r) if calls else []:
        ready, _ = endpoint_pods(svc)
        if not (ready and svc.get("port_gaps")):
            continue
        where = f"Service {svc['namespace']}/{svc['name']}"
        return r.make("service-port-mismatch", where,
                      f"{svc['port_gaps'][0]}; its {len(ready)} ready endpoint(s) refuse: callers get "
                      f"{how(calls[0])}", [*svc["port_gaps"][1:], *calls[:3]],
                      f"point {where}'s targetPort at the port its pods listen on (see the declared ports above); "
                      "restarting, rolling back or scaling the callers does not help", False)
    return None
