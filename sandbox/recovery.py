"""The exporter's view of the sandbox's cluster: when has it recovered (asked before serving series that
declare `recovery`), and the emulator's kube-state-metrics series (none from the real control plane, whose own
kube-state-metrics Prometheus scrapes).

A deployment has recovered once its live revision differs from the one first seen after the scenario was
loaded (someone restarted or rolled it back) and all its desired replicas are available. This stands in for
kube-state-metrics and the service's own metrics reacting to the fix.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import yaml

REVISION = "deployment.kubernetes.io/revision"


class ClusterWatch:
    def __init__(self, kubeconfig: Path, emulated: bool = True):
        self.kubeconfig = kubeconfig
        self.emulated = emulated  # the emulator serves kube-state-metrics' series at /metrics
        self.baseline: dict[tuple[str, str], str] = {}
        self.recovered: dict[tuple[str, str], float] = {}

    def reset(self) -> None:
        self.baseline.clear()
        self.recovered.clear()

    def _client(self) -> httpx.Client | None:
        if not self.kubeconfig.exists():
            return None
        config = yaml.safe_load(self.kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        token = config["users"][0]["user"]["token"]
        ca = cluster.get("certificate-authority")  # the real API server's own CA
        return httpx.Client(base_url=cluster["server"], headers={"Authorization": f"Bearer {token}"}, timeout=1.0,
                            verify=ssl.create_default_context(cafile=ca) if ca else True)

    def state_metrics(self) -> str:
        """The emulator's kube-state-metrics and cAdvisor exposition, or "" while it cannot be read."""
        client = self._client() if self.emulated else None
        if client is None:
            return ""
        try:
            with client:
                r = client.get("/metrics")
        except httpx.HTTPError:
            return ""
        return r.text if r.status_code == 200 else ""

    def recovered_at(self, namespace: str, deployment: str, now: float) -> float | None:
        """The time the recovery was first seen, or None while the incident goes on (or the API is away)."""
        key = (namespace, deployment)
        if key in self.recovered:
            return self.recovered[key]
        client = self._client()
        if client is None:
            return None
        try:
            with client:
                r = client.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{deployment}")
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        d = r.json()
        revision = d["metadata"].get("annotations", {}).get(REVISION, "")
        first = self.baseline.setdefault(key, revision)
        desired = d["spec"].get("replicas", 0)
        available = d.get("status", {}).get("availableReplicas", 0)
        if revision != first and available >= desired > 0:
            self.recovered[key] = now
            return now
        return None
