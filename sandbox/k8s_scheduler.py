"""Where the default scheduler would put a pod, or the FailedScheduling message it would give.

The filters run in the scheduler's order (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit,
then VolumeBinding: a bound volume's node affinity; its unbound-claim pre-filter before any node), each node
failing on its first filter, and the message is the scheduler's:
"0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 Insufficient nvidia.com/gpu.
preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims
found for incoming pod."
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from tools.k8s_quantity import quantity

NO_VICTIMS = "No preemption victims found for incoming pod"
NOT_HELPFUL = "Preemption is not helpful for scheduling"


def requests_of(spec: dict[str, Any]) -> dict[str, Decimal]:
    """What a pod asks for: the sum of its containers' requests (limits stand in for missing requests, as the
    API server defaults them), or the largest init container's if that is more; plus one pod slot."""
    def one(c: dict[str, Any]) -> dict[str, Decimal]:
        res = c.get("resources") or {}
        asked = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        return {k: quantity(v) for k, v in asked.items()}

    total: Counter[str] = Counter()
    for c in spec.get("containers", []):
        total.update(one(c))
    for c in spec.get("initContainers", []):
        for k, v in one(c).items():
            total[k] = max(total[k], v)
    return {**total, "pods": Decimal(1)}


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _matches_expression(labels: dict[str, str], ex: dict[str, Any]) -> bool:
    key, op, values = ex.get("key"), ex.get("operator"), ex.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        a, b = int(labels[key]), int(values[0])
        return a > b if op == "Gt" else a < b
    return False


def node_affinity_ok(spec: dict[str, Any], node: dict[str, Any]) -> bool:
    """The pod's nodeSelector and required node affinity (matchExpressions on labels, matchFields on the name)."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    return terms_match(required.get("nodeSelectorTerms") or [], node)


def terms_match(terms: list[dict[str, Any]], node: dict[str, Any]) -> bool:
    """Node selector terms (a pod's required affinity, a volume's node affinity): any term, all its expressions."""
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    return not terms or any(all(_matches_expression(labels, ex) for ex in term.get("matchExpressions") or [])
                            and all(_matches_expression(fields, ex) for ex in term.get("matchFields") or [])
                            for term in terms)


def _taint_text(taint: dict[str, Any]) -> str:
    return f"{{{taint['key']}: {taint.get('value') or ''}}}"


def unbound_claims(spec: dict[str, Any], claim_phase: dict[str, str | None]) -> str | None:
    """The VolumeBinding pre-filter: a claim that does not exist, or is not bound."""
    for v in spec.get("volumes") or []:
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is None:
            continue
        if claim not in claim_phase:
            return f'persistentvolumeclaim "{claim}" not found'
        if claim_phase[claim] != "Bound":
            return "pod has unbound immediate PersistentVolumeClaims"
    return None


def schedule(spec: dict[str, Any], nodes: list[dict[str, Any]], used: dict[str, Counter],
             claim_phase: dict[str, str | None],
             volume_terms: dict[str, list[dict[str, Any]]] | None = None) -> tuple[str | None, str | None]:
    """(node name, None), or (None, the FailedScheduling message). `used` is what is placed on each node;
    `volume_terms` the node affinity of each bound claim's volume (VolumeBinding, after NodeResourcesFit)."""
    claims = [(v.get("persistentVolumeClaim") or {}).get("claimName") for v in spec.get("volumes") or []]
    pinned = [t for c in claims if c and (t := (volume_terms or {}).get(c))]
    n = len(nodes)
    if n == 0:
        return None, f"no nodes available to schedule pods. preemption: 0/0 nodes are available: {NOT_HELPFUL}."
    if (why := unbound_claims(spec, claim_phase)) is not None:
        return None, f"0/{n} nodes are available: {why}. preemption: 0/{n} nodes are available: {n} {NOT_HELPFUL}."
    wanted = requests_of(spec)
    reasons: Counter[str] = Counter()
    preemption: Counter[str] = Counter()
    fits = []
    for node in nodes:
        meta, nspec = node["metadata"], node.get("spec") or {}
        failed: list[str] = []
        untolerated = [t for t in nspec.get("taints") or [] if t["effect"] in ("NoSchedule", "NoExecute")
                       and not tolerates(spec.get("tolerations") or [], t)]
        if nspec.get("unschedulable"):
            failed = ["node(s) were unschedulable"]
        elif untolerated:
            failed = [f"node(s) had untolerated taint {_taint_text(untolerated[0])}"]
        elif not node_affinity_ok(spec, node):
            failed = ["node(s) didn't match Pod's node affinity/selector"]
        else:
            allocatable = {k: quantity(v) for k, v in node["status"]["allocatable"].items()}
            placed = used.get(meta["name"], Counter())
            for res, amount in sorted(wanted.items()):
                if amount and placed[res] + amount > allocatable.get(res, Decimal(0)):
                    failed.append("Too many pods" if res == "pods" else f"Insufficient {res}")
            if not failed and not all(terms_match(t, node) for t in pinned):
                failed = ["node(s) had volume node affinity conflict"]
        if not failed:
            fits.append(meta["name"])
            continue
        preemption[NOT_HELPFUL if failed[0].startswith("node(s)") else NO_VICTIMS] += 1
        reasons.update(failed)
    if fits:
        return min(fits, key=lambda name: (sum(used.get(name, Counter()).values()), name)), None
    text = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    pre = ", ".join(f"{count} {reason}" for reason, count in sorted(preemption.items()))
    return None, f"0/{n} nodes are available: {text}. preemption: 0/{n} nodes are available: {pre}."
