"""What Prometheus remembers of a revision's health: kube-state-metrics' ReplicaSet series over the last days.

A revision whose ReplicaSet has no pods left says nothing by its status; `kube_replicaset_status_ready_replicas`
and `kube_replicaset_spec_replicas` (kube-state-metrics, as kube-prometheus scrapes it) say whether its pods were
ready while it ran. Only what the series show counts: a ReplicaSet Prometheus never saw running is "not known",
never "healthy", and an unreachable Prometheus is said as such.
"""

from __future__ import annotations

import requests
from prometheus_api_client import PrometheusApiClientException

from tools.alertmanager_api import transport_reason
from tools.context import ToolContext
from tools.k8s_revisions import Health, History, Revision

WINDOW = "7d"


def _max_by_set(ctx: ToolContext, metric: str, ns: str, names: list[str]) -> dict[str, float]:
    pattern = "|".join(n.replace(".", "\\\\.") for n in names)
    query = f'max by (replicaset) (max_over_time({metric}{{namespace="{ns}",replicaset=~"{pattern}"}}[{WINDOW}]))'
    return {s["metric"].get("replicaset", ""): float(s["value"][1])
            for s in ctx.backends.prometheus.custom_query(query)}


def prometheus_history(ctx: ToolContext, ns: str) -> History:
    """The History the rollback plan asks for revisions without pods, read from this context's Prometheus."""

    def ask(revisions: list[Revision]) -> dict[int, Health]:
        names = [r.replica_set for r in revisions if r.replica_set]
        try:
            ready = _max_by_set(ctx, "kube_replicaset_status_ready_replicas", ns, names)
            ran = _max_by_set(ctx, "kube_replicaset_spec_replicas", ns, names)
        except (PrometheusApiClientException, requests.RequestException, KeyError, TypeError, ValueError) as e:
            why = f"health not known: no pods now, and Prometheus at {ctx.settings.prometheus.url} could not " \
                  f"be asked ({transport_reason(e)})"
            return {r.number: Health(None, why) for r in revisions}
        out = {}
        for r in revisions:
            best, wanted = ready.get(r.replica_set or "", 0.0), ran.get(r.replica_set or "", 0.0)
            if best > 0:
                out[r.number] = Health(True, f"it had {best:g} ready replicas within the last {WINDOW} "
                                             "(kube_replicaset_status_ready_replicas)")
            elif wanted > 0:
                out[r.number] = Health(False, f"it ran {wanted:g} replicas within the last {WINDOW} and none "
                                              "became ready (kube-state-metrics)")
            else:
                out[r.number] = Health(None, f"health not known: no pods now, and Prometheus has no record of it "
                                             f"running within the last {WINDOW}")
        return out

    return ask
