"""What an alert is about: from its labels to the one Kubernetes object they name (bot/triage/owners.py then
follows a pod's owner chain to its workload).

Labels are trusted in a known order: pod (and container); deployment, statefulset, daemonset, job_name,
cronjob; persistentvolumeclaim, horizontalpodautoscaler; node (or a node-exporter's instance); then service
or app naming a workload; namespace last. A Sentry event's `server_name` tag, with a namespace tag, is its
pod's hostname: the pod; without one, a `release` tag in Sentry's `package@version` form names the workload.
The labels an exporter adds about itself (kube-state-metrics' `service`, `job` and `instance`,
node-exporter's, cAdvisor's) name the source of the series, not its subject, and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel

EXPORTERS = ("kube-state-metrics", "node-exporter", "kubelet", "cadvisor", "prometheus", "alertmanager",
             "blackbox-exporter", "apiserver", "kube-proxy", "coredns", "kube-dns")
_POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
WORKLOAD_LABELS = (("deployment", "Deployment"), ("statefulset", "StatefulSet"), ("daemonset", "DaemonSet"),
                   ("job_name", "Job"), ("cronjob", "CronJob"))
# objects an alert names that are not workloads (KubePersistentVolumeFillingUp, KubeHpaMaxedOut)
OBJECT_LABELS = (("persistentvolumeclaim", "PersistentVolumeClaim"), ("horizontalpodautoscaler",
                                                                       "HorizontalPodAutoscaler"))


def is_exporter(value: str | None) -> bool:
    """`robusta-kube-state-metrics`, `prometheus-node-exporter`, `kubelet`: what scraped, not what failed."""
    return bool(value) and any(e in value.lower() for e in EXPORTERS)


class Target(BaseModel):
    namespace: str | None = None
    kind: str | None = None  # the object the labels name: Pod, Deployment, Job, Node, PersistentVolumeClaim …
    name: str | None = None
    container: str | None = None
    workload_kind: str | None = None  # the controller at the top of the owner chain (or the object itself)
    workload: str | None = None
    via: str = "namespace"  # the label that decided

    @property
    def deployment(self) -> str | None:
        return self.workload if self.workload_kind == "Deployment" else None


def from_labels(labels: Mapping[str, str]) -> Target:
    """The object the labels name, without asking the cluster."""
    ns = labels.get("namespace") or labels.get("exported_namespace")
    if labels.get("pod"):
        return Target(namespace=ns, kind="Pod", name=labels["pod"], container=labels.get("container"), via="pod")
    if labels.get("server_name") and ns and _POD_NAME.match(labels["server_name"]):
        # a Sentry event from a pod: its server_name is the pod's hostname, i.e. the pod's name
        return Target(namespace=ns, kind="Pod", name=labels["server_name"], via="server_name")
    for label, kind in WORKLOAD_LABELS:
        if labels.get(label):
            return Target(namespace=ns, kind=kind, name=labels[label], workload_kind=kind, workload=labels[label],
                          container=labels.get("container"), via=label)
    package = (labels.get("release") or "").split("@", 1)[0] if "@" in (labels.get("release") or "") else ""
    if package and ns and _POD_NAME.match(package) and labels.get("sentry_issue"):
        return Target(namespace=ns, kind="Deployment", name=package, workload_kind="Deployment", workload=package,
                      via="release")
    for label, kind in OBJECT_LABELS:
        if labels.get(label):
            return Target(namespace=ns, kind=kind, name=labels[label], via=label)
    if labels.get("node"):
        return Target(namespace=ns, kind="Node", name=labels["node"], via="node")
    if labels.get("instance") and "node-exporter" in (labels.get("job") or "") + (labels.get("service") or ""):
        return Target(namespace=ns, kind="Node", name=labels["instance"].rsplit(":", 1)[0], via="instance")
    for label in ("service", "app", "app_kubernetes_io_name"):
        value = labels.get(label)
        if value and not is_exporter(value):
            return Target(namespace=ns, kind="Deployment", name=value, workload_kind="Deployment", workload=value,
                          via=label)
    return Target(namespace=ns)


def workload_name(labels: Mapping[str, str]) -> str | None:
    """The workload the labels name directly; an exporter's own `service` (kube-state-metrics …) is not one."""
    for key in ("deployment", "statefulset", "daemonset", "job_name", "cronjob", "service", "app"):
        if labels.get(key) and not is_exporter(labels[key]):
            return labels[key]
    return None
