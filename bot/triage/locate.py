"""Where an alert points when its labels do not name an object in the form bot.intake.target expects: a label
value that is the name of an object of the kind the label suggests (`job`, or a Pushgateway's `exported_job`, a
Job or CronJob; `app`, `service`, `container` a workload), checked against the cluster through the door before
it is dismissed; and, when the labels name no object or no namespace, what the alert's expression's series name
(namespace, pod, workload).

Prometheus's `job` label is usually the scrape job (kube-state-metrics, node-exporter, a Pushgateway): only an
object that exists under that name counts. Every read goes through the door, as triage's reads do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.guard.door import Caller, Door
from bot.intake.target import Target, from_labels, is_exporter
from bot.triage.subject import Subject
from tools.base import Status

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")
# a label, and the kinds of object its value may name, in the order they are tried
NAMING = (("job_name", ("Job", "CronJob")), ("job", ("Job", "CronJob")), ("exported_job", ("Job", "CronJob")),
          ("cronjob", ("CronJob",)),
          ("deployment", WORKLOADS), ("statefulset", WORKLOADS), ("daemonset", WORKLOADS),
          ("app_kubernetes_io_name", WORKLOADS), ("app", WORKLOADS), ("service", WORKLOADS),
          ("container", WORKLOADS))
GUESSED = ("service", "app", "app_kubernetes_io_name")  # from_labels takes these for a Deployment unchecked
# labels an alert keeps from its expression's series that say which series: matchers for the series query
SERIES_KEYS = ("namespace", "pod", "container", "deployment", "statefulset", "daemonset", "job_name", "cronjob",
               "service", "app", "node")
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
MAX_SELECTORS = 2


class _Cluster:
    """Names of objects of a kind, per namespace (or in every namespace), each kind listed once."""

    def __init__(self, door: Door, caller: Caller):
        self.door, self.caller = door, caller
        self._seen: dict[tuple[str, str | None], list[tuple[str, str]]] = {}

    def namespaces_of(self, kind: str, name: str, namespace: str | None) -> list[str]:
        if (kind, namespace) not in self._seen:
            r = self.door.run("k8s_list", {"kind": kind, **({"namespace": namespace} if namespace else {})},
                              self.caller)
            data = r.data if r.status == Status.success and isinstance(r.data, dict) else {}
            items = data.get("items") or data.get("pods") or []
            self._seen[(kind, namespace)] = [(i.get("namespace") or namespace or "", i["name"]) for i in items]
        return [ns for ns, n in self._seen[(kind, namespace)] if n == name and ns]


def named(cluster: _Cluster, labels: Mapping[str, str]) -> Target:
    """The object the labels name; a value from_labels would take unchecked, or would dismiss, is looked up."""
    guess = from_labels(labels)
    if guess.kind and guess.via not in GUESSED:  # named outright; without a namespace, the one that has it
        if guess.namespace or guess.kind in ("Node", "PersistentVolume") or not guess.name:
            return guess
        found = cluster.namespaces_of(guess.kind, guess.name, None)
        return guess.model_copy(update={"namespace": found[0]}) if len(found) == 1 else guess
    for label, kinds in NAMING:
        value = labels.get(label)
        if not value or is_exporter(value):
            continue
        for kind in kinds:
            found = cluster.namespaces_of(kind, value, guess.namespace)
            if len(found) == 1:
                container = labels.get("container") if label != "container" else None
                return Target(namespace=found[0], kind=kind, name=value, workload_kind=kind, workload=value,
                              container=container, via=label)
    return guess


def _series_queries(expr: str, labels: Mapping[str, str]) -> list[str]:
    """The expression itself, then its first selectors narrowed by the series labels the alert kept."""
    keep = ",".join(f'{k}="{labels[k]}"' for k in SERIES_KEYS if labels.get(k) and '"' not in labels[k])
    selectors = [f"{m.group(1)}{{{','.join(x for x in (m.group(2).strip(), keep) if x)}}}"
                 for m in SELECTOR.finditer(expr)]
    return [expr[:1000], *list(dict.fromkeys(selectors))[:MAX_SELECTORS]]


def _agrees(series: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(series.get(k) == labels[k] for k in SERIES_KEYS if k in series and labels.get(k))


def locate(door: Door, caller: Caller, alert: Subject) -> Target:
    """The alert's object: named by its labels (checked against the cluster where they only suggest one), else
    by its expression's series; the labels' own target when neither names more."""
    cluster = _Cluster(door, caller)
    target = named(cluster, alert.labels)
    if (target.kind and target.namespace) or target.kind in ("Node", "PersistentVolume") or not alert.expr:
        return target
    for query in _series_queries(alert.expr, alert.labels):
        r = door.run("prom_query", {"query": query, "limit": 5}, caller)
        series = r.data.get("series", []) if r.status == Status.success and isinstance(r.data, dict) else []
        for s in series:
            found = named(cluster, {**s.get("labels", {}), **alert.labels})
            if found.kind and found.namespace and _agrees(s.get("labels", {}), alert.labels):
                return found.model_copy(update={"via": f"series {found.via}"})
    return target
