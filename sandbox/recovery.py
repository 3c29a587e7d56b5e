"""The exporter's view of the sandbox's cluster: when has it recovered (asked before serving series that
declare `recovery`), and the emulator's kube-state-metrics and cAdvisor series (on the real control plane only
the cAdvisor ones, from the emulator that loaded the scenario: Prometheus scrapes the real kube-state-metrics).

A deployment has recovered once its live revision differs from the one first seen after the scenario was
loaded (someone restarted or rolled it back) and all its desired replicas are available; a recovery that names
`replicas_at_most` (what too many replicas held, such as a database's connections) once the deployment was scaled
back to at most that many, all available. This stands in for kube-state-metrics and the service's own metrics
reacting to the fix.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import yaml

REVISION = "deployment.kubernetes.io/revision"


class ClusterWatch:
    def __init__(self, kubeconfig: Path, loader: Path | None = None):
        """`loader`: the real control plane's scenario loader (an emulator's kubeconfig), whose cAdvisor series
        are served; without it, `kubeconfig` is the emulator's and all its series are."""
        self.kubeconfig = kubeconfig
        self.loader = loader
        self.baseline: dict[tuple[str, str], str] = {}
        self.recovered: dict[tuple[str, str, int | None], float] = {}

    def reset(self) -> None:
        self.baseline.clear()
        self.recovered.clear()

    def _client(self, kubeconfig: Path | None = None) -> httpx.Client | None:
        kubeconfig = kubeconfig or self.kubeconfig
        if not kubeconfig.exists():
            return None
        config = yaml.safe_load(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        token = config["users"][0]["user"]["token"]
        ca = cluster.get("certificate-authority")  # the real API server's own CA
        return httpx.Client(base_url=cluster["server"], headers={"Authorization": f"Bearer {token}"}, timeout=1.0,
                            verify=ssl.create_default_context(cafile=ca) if ca else True)

    def state_metrics(self) -> str:
        """The emulator's kube-state-metrics and cAdvisor exposition, or "" while it cannot be read."""
        client = self._client(self.loader)
        if client is None:
            return ""
        try:
            with client:
                r = client.get("/metrics")
        except httpx.HTTPError:
            return ""
        if r.status_code != 200:
            return ""
        return _cadvisor_only(r.text) if self.loader else r.text

    def recovered_at(self, namespace: str, deployment: str, now: float, at_most: int | None = None) -> float | None:
        """The time the recovery was first seen, or None while the incident goes on (or the API is away).
        `at_most`: recovered by a scale back to at most that many replicas instead of by a new revision."""
        key = (namespace, deployment, at_most)
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
        first = self.baseline.setdefault((namespace, deployment), revision)
        desired = d["spec"].get("replicas", 0)
        available = d.get("status", {}).get("availableReplicas", 0)
        changed = revision != first if at_most is None else desired <= at_most
        if changed and available >= desired > 0:
            self.recovered[key] = now
            return now
        return None


def _cadvisor_only(text: str) -> str:
    """The kubelet's cAdvisor families of an exposition (job="kubelet"), their # lines with them."""
    samples = [line for line in text.splitlines() if line and not line.startswith("#") and 'job="kubelet"' in line]
    names = {line.split("{")[0].split(" ")[0] for line in samples}
    headers = [line for line in text.splitlines() if line.startswith("# ") and line.split()[2:3] and
               line.split()[2] in names]
    return "\n".join(headers + samples) + "\n" if samples else ""
