"""The admission a controller's pod creation passes: LimitRanger (a container's limit above the namespace's
LimitRange maximum, its request below the minimum; a container without a limit gets the default, within the
maximum), ServiceAccount (the pod's ServiceAccount must exist), ResourceQuota (the namespace's quota would be
exceeded, or a tracked resource is not specified), then each ValidatingWebhookConfiguration's webhook that
matches the pod's creation: no webhook is called here, so one whose Service has no ready endpoint refuses (with
failurePolicy Fail) as the real API server says, and one it could reach allows. In the API server's words:
`pods "web-7d4b9c8f6-" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, used:
limits.memory=7Gi, limited: limits.memory=8Gi`. A quota's `status.used` is what the namespace's pods hold now,
unless the scenario gives it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sandbox.k8s_objects import parse_ts
from sandbox.k8s_selectors import selects
from tools.k8s_quantity import amount, quantity

DONE = ("Succeeded", "Failed")


def _container_amounts(c: dict[str, Any]) -> dict[str, Decimal]:
    res = c.get("resources") or {}
    limits, requests = res.get("limits") or {}, {**(res.get("limits") or {}), **(res.get("requests") or {})}
    out = {f"limits.{k}": quantity(v) for k, v in limits.items()}
    out |= {f"requests.{k}": quantity(v) for k, v in requests.items()}
    out |= {k: quantity(v) for k, v in requests.items() if k in ("cpu", "memory")}  # bare names are requests
    return out


def pod_usage(spec: dict[str, Any]) -> Counter:
    """What one pod counts against a quota (containers summed; limits stand in for missing requests)."""
    total: Counter = Counter({"pods": Decimal(1)})
    for c in spec.get("containers", []):
        total.update(_container_amounts(c))
    return total


class Admission:
    """Mixed into the Cluster: `objects` holds LimitRanges and ResourceQuotas, `pods` the pods they count."""

    objects: dict[tuple[str, str, str], dict[str, Any]]
    pods: dict[tuple[str, str], dict[str, Any]]
    namespaces: dict[str, dict[str, Any]]
    endpoints: Callable[[str], list[dict[str, Any]]]  # a namespace's Endpoints (sandbox/k8s_static.py)

    def _namespaced(self, plural: str, ns: str) -> list[dict[str, Any]]:
        return [obj for (p, ons, _), obj in sorted(self.objects.items()) if p == plural and ons == ns]

    def quota_used(self, ns: str, hard: dict[str, Any]) -> dict[str, str]:
        used: Counter = Counter()
        for (pns, _), p in self.pods.items():
            if pns == ns and p["status"].get("phase") not in DONE:
                used.update(pod_usage(p["spec"]))
        return {k: amount(k, used[k]) for k in hard}

    def quotas(self, ns: str | None) -> list[dict[str, Any]]:
        """The namespace's quotas (every namespace's: None) with status.hard and status.used filled in."""
        out = []
        for (p, ons, _), q in sorted(self.objects.items()):
            if p != "resourcequotas" or (ns is not None and ons != ns):
                continue
            hard = (q.get("spec") or {}).get("hard") or {}
            given = q.get("status") or {}  # the scenario's, kept as written
            out.append({**q, "status": {"hard": dict(given.get("hard") or hard),
                                        "used": dict(given.get("used") or self.quota_used(ons, hard))}})
        return out

    def admit(self, ns: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None,
              created: float | None = None) -> str | None:
        """Why the API server refuses to create pod `name` with `spec` (and `labels`) in `ns` at `created`
        (a webhook made later was not there to ask), or None."""
        why = self._limit_ranges(ns, spec) or self._service_account(ns, spec) or self._quota(ns, spec)
        return f'pods "{name}" is forbidden: {why}' if why else self._webhooks(ns, labels or {}, created)

    def _service_account(self, ns: str, spec: dict[str, Any]) -> str | None:
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if ("serviceaccounts", ns, account) in self.objects:
            return None
        return f'error looking up service account {ns}/{account}: serviceaccount "{account}" not found'

    def _webhooks(self, ns: str, labels: dict[str, str], created: float | None) -> str | None:
        namespace_labels = (self.namespaces.get(ns, {}).get("metadata") or {}).get("labels") or {}
        for (p, _, _), config in sorted(self.objects.items()):
            if p != "validatingwebhookconfigurations" or (
                    created is not None and parse_ts(config["metadata"]["creationTimestamp"]) > created):
                continue
            for hook in config.get("webhooks") or []:
                if hook.get("failurePolicy", "Fail") != "Fail" or not _creates_pods(hook) \
                        or not selects(hook.get("namespaceSelector"), namespace_labels) \
                        or not selects(hook.get("objectSelector"), labels):
                    continue
                service = (hook.get("clientConfig") or {}).get("service")
                if service and not self._ready_endpoint(service["namespace"], service["name"]):
                    url = (f"https://{service['name']}.{service['namespace']}.svc:{service.get('port', 443)}"
                           f"{service.get('path', '')}?timeout={hook.get('timeoutSeconds', 10)}s")
                    return (f'Internal error occurred: failed calling webhook "{hook["name"]}": failed to call '
                            f'webhook: Post "{url}": no endpoints available for service "{service["name"]}"')
        return None

    def _ready_endpoint(self, ns: str, name: str) -> bool:
        return any(subset.get("addresses") for e in self.endpoints(ns) if e["metadata"]["name"] == name
                   for subset in e.get("subsets") or [])

    def _limit_ranges(self, ns: str, spec: dict[str, Any]) -> str | None:
        problems = []
        for lr in self._namespaced("limitranges", ns):
            for item in (lr.get("spec") or {}).get("limits") or []:
                if item.get("type") != "Container":
                    continue
                for c in spec.get("containers", []):
                    res = c.get("resources") or {}
                    limits, requests = res.get("limits") or {}, {**(res.get("limits") or {}),
                                                                  **(res.get("requests") or {})}
                    for r, top in sorted((item.get("max") or {}).items()):  # no limit: the default (≤ max) applies
                        if r in limits and quantity(limits[r]) > quantity(top):
                            problems.append(f"maximum {r} usage per Container is {top}, but limit is {limits[r]}")
                    for r, low in sorted((item.get("min") or {}).items()):
                        if r in requests and quantity(requests[r]) < quantity(low):
                            problems.append(f"minimum {r} usage per Container is {low}, but request is {requests[r]}")
        if not problems:
            return None
        return problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]"

    def _quota(self, ns: str, spec: dict[str, Any]) -> str | None:
        wanted = pod_usage(spec)
        for q in self.quotas(ns):
            hard = {k: quantity(v) for k, v in q["status"]["hard"].items()}
            missing = sorted(k for k in hard if "." in k and k.split(".", 1)[0] in ("limits", "requests")
                             and any(k not in _container_amounts(c) for c in spec.get("containers", [])))
            if missing:
                return f"failed quota: {q['metadata']['name']}: must specify {','.join(missing)}"
            used = {k: quantity(v) for k, v in q["status"]["used"].items()}
            over = sorted(k for k in hard if wanted.get(k) and used.get(k, Decimal(0)) + wanted[k] > hard[k])
            if over:
                def listed(values: dict[str, Decimal]) -> str:
                    return ",".join(f"{k}={amount(k, values.get(k, Decimal(0)))}" for k in over)
                return (f"exceeded quota: {q['metadata']['name']}, requested: {listed(wanted)}, used: "
                        f"{listed(used)}, limited: {listed(hard)}")
        return None


def _creates_pods(hook: dict[str, Any]) -> bool:
    """Whether a webhook's rules match a pod's creation."""
    return any({"CREATE", "*"} & set(rule.get("operations") or []) and {"", "*"} & set(rule.get("apiGroups") or [])
               and {"pods", "*"} & set(rule.get("resources") or []) for rule in hook.get("rules") or [])
