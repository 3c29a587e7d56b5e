"""Listing Kubernetes objects of one kind, as `kubectl get` shows them, unhealthy ones first."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException
from pydantic import Field, model_validator

from tools.base import ClusterArgs, ToolInputError, ToolResult, empty, ok, tool
from tools.context import ToolContext
from tools.k8s_api import (
    LabelSelector,
    Namespace,
    ObjectName,
    call,
    deployment_not_found,
    message,
    owner_selector,
    require_namespace,
)
from tools.k8s_kinds import KINDS, Kind, plural
from tools.k8s_pods import pods_summary
from tools.k8s_rows import ROWS

MAX_ROWS = 50


class K8sListArgs(ClusterArgs):
    kind: Kind = Field("Pod", description="what to list")
    namespace: Namespace | None = Field(None, description="the namespace; omitted: every "
                                        "namespace (not for Node, PersistentVolume, StorageClass, Namespace)")
    deployment: ObjectName | None = Field(None, description="kind Pod: only the pods of this Deployment, "
                                          "StatefulSet, DaemonSet or Job")
    selector: LabelSelector | None = Field(None, description="label selector, e.g. 'app=<name>', "
                                           "'env in (prod,staging)', '!canary'")
    only_unhealthy: bool = Field(False, description="only objects that are not healthy (pods: not Running "
                                 "and ready, or restarted in the last hour)")

    @model_validator(mode="after")
    def _one_filter(self) -> K8sListArgs:
        if self.deployment and self.selector:
            raise ValueError("give either deployment or selector, not both")
        if self.deployment and self.kind != "Pod":
            raise ValueError("deployment filters pods only; use selector for other kinds")
        if self.deployment and not self.namespace:
            raise ValueError("deployment needs its namespace")
        return self


@tool("kubernetes")
def k8s_list(ctx: ToolContext, args: K8sListArgs) -> ToolResult:
    """List objects of one kind, unhealthy first, with kubectl's columns: pods (status such as
    CrashLoopBackOff, Pending, Init:Error; ready, restarts, last termination, node), workloads (ready and
    desired), Jobs (succeeded/failed), CronJobs (suspended, or no success since its schedule says it was due:
    not healthy), nodes (Ready, pressure, taints, zone), claims (Bound/Pending), ResourceQuotas (used/hard),
    Secrets (key names only) and the rest."""
    info = KINDS[args.kind]
    ns = args.namespace if info.namespaced else None
    if ns:
        require_namespace(ctx, ns)
    selector = args.selector
    if args.deployment:
        found = owner_selector(ctx, ns or "", args.deployment)
        if found is None:
            raise deployment_not_found(ctx, ns or "", args.deployment)
        selector = found[1]
    invocation = k8s_list.summary(args)
    noun = "pods" if args.kind == "Pod" else plural(args.kind)
    every_ns = info.namespaced and not ns
    where = (f"namespace '{ns}'" if ns else "any namespace" if every_ns else "the cluster") + \
        (f" with label selector '{selector}'" if selector else "")
    method = info.list_all_method if every_ns else info.list_method
    try:
        items = call(ctx, f"the {noun} in {where}", info.api, method, *((ns,) if ns else ()),
                     label_selector=selector).items
    except ApiException as e:
        raise ToolInputError(f"the API server rejected the selector '{selector}': {message(e)}") from None
    if not items:
        return empty(k8s_list.name, invocation, f"no {noun} in {where}")
    now = ctx.now()
    # unhealthy first; then what carries credentials (a ServiceAccount's pull secrets or cloud identity), so that a
    # list cut at MAX_ROWS still shows them beside a cluster's dozens of plain accounts
    rows = sorted(({**({"namespace": i.metadata.namespace} if every_ns else {}), **ROWS[args.kind](i, now)}
                   for i in items), key=lambda r: (r["healthy"], not (r.get("image_pull_secrets") or r.get("identity")),
                                                   r.get("namespace", ""), r["name"]))
    shown = [r for r in rows if not r["healthy"]] if args.only_unhealthy else rows
    if not shown:
        return empty(k8s_list.name, invocation, f"all {len(rows)} {noun} in {where} are healthy; none is "
                     "unhealthy" + (" (Running and ready, no restart in the last hour)" if args.kind == "Pod" else ""))
    key = "pods" if args.kind == "Pod" else "items"
    summary = pods_summary(rows) if args.kind == "Pod" else \
        f"{len(rows)} {noun}, {sum(1 for r in rows if r['healthy'])} healthy"
    data: dict[str, Any] = {"kind": args.kind, "namespace": ns, "selector": selector, "summary": summary,
                            key: shown[:MAX_ROWS]}
    notice = f"showing {MAX_ROWS} of {len(shown)}" if len(shown) > MAX_ROWS else None
    return ok(k8s_list.name, invocation, data, notice)


TOOLS = [k8s_list]
