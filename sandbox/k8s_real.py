"""The sandbox's Kubernetes on the real control plane (`opsbot sandbox up --kubernetes real`).

`start` runs etcd, kube-apiserver, kube-scheduler, kube-controller-manager, kwok and kube-state-metrics in the
sandbox's directory, and our emulator in its `loader/` folder as the scenario loader; opsbot's kubeconfig holds
deploy/kubernetes' ServiceAccount token (RBAC enforced). `load` loads a scenario into the loader, then copies its
objects into the real API server (sandbox/k8s_copy.py) while the controller-manager and the scheduler are
stopped, so that they first see the scenario whole (a Deployment with its ReplicaSets and pods, a pending pod
with its claims and volumes) and make nothing twice; the copied pods and nodes keep the status the scenario gave
them (kwok leaves them be), and what the controllers make afterwards (a scale, a restart, a rollback) kwok runs.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError

from sandbox import controlplane, controlplane_cluster, k8s, k8s_etcd, procs
from sandbox.controlplane import ControlPlane
from sandbox.controlplane_cluster import CONTROLLERS, KWOK, NAMES, SCHEDULER
from sandbox.k8s_copy import clear_cluster, clear_events, copy_cluster, delete_terminating, dynamic, emulator_client
from sandbox.k8s_identity import DEPLOY, apply, opsbot_kubeconfig
from sandbox.scenario import Scenario

SETTLE_S = 10.0  # how long a load waits for the restarted controller-manager's first acts (see load)
INFO = "kubernetes-real.json"  # the running cluster: its control plane, ports and kube-state-metrics' URL
COPIED = "kubernetes-real.copied.json"  # what the last load copied, deleted by the next
SECRET_METADATA = DEPLOY / "optional" / "secret-metadata.yaml"


def _loader(state_dir: Path) -> Path:
    return state_dir / k8s.LOADER


def is_real(state_dir: Path) -> bool:
    """Whether the sandbox in `state_dir` runs the real control plane (from `start` until `stop`)."""
    return (state_dir / INFO).exists()


def metrics_target(state_dir: Path) -> str:
    """kube-state-metrics' host:port, for Prometheus to scrape."""
    return json.loads((state_dir / INFO).read_text())["metrics_url"].split("//")[1].split("/")[0]


def control_plane(state_dir: Path) -> ControlPlane:
    """The running sandbox's control plane (its URL, CA and administrator's kubeconfig)."""
    cp = json.loads((state_dir / INFO).read_text())["control_plane"]
    return ControlPlane(Path(cp["state_dir"]), cp["url"], Path(cp["ca_file"]), cp["admin_token"],
                        Path(cp["admin_kubeconfig"]), cp["tokens"], cp["etcd_url"])


def start(state_dir: Path, loader_port: int) -> None:
    """Start the real cluster and the loader; opsbot's kubeconfig at k8s.kubeconfig_path(state_dir)."""
    try:
        controlplane.addon_binaries()
    except controlplane.ControlPlaneMissing as e:
        raise procs.SandboxError(f"the real control plane cannot start: {e}") from None
    loader = _loader(state_dir)
    loader.mkdir(exist_ok=True)
    k8s.start(loader, loader_port)
    cp = controlplane.start(state_dir, controllers=True)
    cluster = controlplane_cluster.start(cp)
    opsbot_kubeconfig(cp, k8s.kubeconfig_path(state_dir))
    (state_dir / INFO).write_text(json.dumps({
        "control_plane": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cp).items()},
        "ports": cluster.ports, "metrics_url": cluster.metrics_url}))


def running(state_dir: Path) -> bool:
    return all(procs.running_pid(name, state_dir) is not None
               for name in (controlplane.ETCD, controlplane.APISERVER, *NAMES)) \
        and procs.running_pid(k8s.NAME, _loader(state_dir)) is not None


def stop(state_dir: Path) -> bool:
    """Stop everything `start` started; whether anything was running."""
    stopped = [procs.stop(k8s.NAME, _loader(state_dir))]
    for name in reversed(NAMES):
        stopped.append(procs.stop(name, state_dir))
    stopped += [procs.stop(controlplane.APISERVER, state_dir), procs.stop(controlplane.ETCD, state_dir)]
    for name in (INFO, COPIED):
        (state_dir / name).unlink(missing_ok=True)
    return any(stopped)


def load(state_dir: Path, loader_port: int, scenario: Scenario, t0: float) -> None:
    """The scenario into the loader, then copied into the real cluster in place of the last one."""
    loader = _loader(state_dir)
    k8s.load(loader, loader_port, scenario, t0)
    cp, ports = control_plane(state_dir), json.loads((state_dir / INFO).read_text())["ports"]
    admin = dynamic(cp.admin_kubeconfig)
    copied_file = state_dir / COPIED
    # the controllers and the scheduler first see the scenario whole: no controller makes what the copy is about
    # to make, and the scheduler judges a pending pod with its claims and volumes already in its caches
    for name in (CONTROLLERS, SCHEDULER):
        procs.stop(name, state_dir)
    try:
        if copied_file.exists():
            clear_cluster(admin, [tuple(c) for c in json.loads(copied_file.read_text())])
        clear_events(admin)  # the controllers' events about the last scenario's objects (a node not ready, …)
        copied: list[tuple[str, str | None, str]] = []
        try:
            copy_cluster(k8s.kubeconfig_path(loader), admin, copied, controlplane_cluster.SCENARIO_STATUS,
                         kubelet_port=ports[KWOK], etcd_url=cp.etcd_url,
                         failure_annotation=controlplane_cluster.FAILS_AS)
            delete_terminating(k8s.kubeconfig_path(loader), admin, copied)
        except ApiException as e:
            raise procs.SandboxError(f"the API server refused scenario {scenario.name}'s objects: "
                                     f"{e.status} {e.reason}: {e.body}") from None
        finally:
            copied_file.write_text(json.dumps(copied))
        for ns in sorted({ns for _, ns, _ in copied if ns}):
            try:  # the demo's opsbot reads Secrets' names and keys in the scenario's namespaces, as the emulator lets it
                apply(admin, SECRET_METADATA, ns)
            except ConflictError:
                pass  # applied by an earlier load
        procs.stop(KWOK, state_dir)  # kwok reads the pods' logs from its configuration, at start
        controlplane_cluster.start_component(cp, KWOK, ports[KWOK], _pod_logs(state_dir, copied))
    finally:
        for name in (SCHEDULER, CONTROLLERS):
            controlplane_cluster.start_component(cp, name, ports[name])
    _as_if_running_all_along(admin, cp.etcd_url, copied)


def _as_if_running_all_along(admin: DynamicClient, etcd_url: str, copied: list[tuple[str, str | None, str]]) -> None:
    """Undo what the controller-manager does only because the load restarted it and made the scenario's objects
    anew: its node controller's "Registered Node" event for each copied node (deleted: the scenario's nodes joined
    when it says), and each namespace's kube-root-ca.crt ConfigMap (made when its namespace was, as where the
    controllers ran all along). Waits up to SETTLE_S for them; what has not come by then is left."""
    nodes = {name for plural, _, name in copied if plural == "nodes"}
    namespaces = {ns for _, ns, _ in copied if ns}
    events = admin.resources.get(api_version="v1", kind="Event")
    config_maps = admin.resources.get(api_version="v1", kind="ConfigMap")
    made: dict[str, Any] = {}
    registered: list[Any] = []
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        registered = [e for e in events.get(namespace="default", field_selector="reason=RegisteredNode").items
                      if e.involvedObject.name in nodes]
        made = {cm.metadata.namespace: cm
                for cm in config_maps.get(field_selector="metadata.name=kube-root-ca.crt").items
                if cm.metadata.namespace in namespaces}
        if {e.involvedObject.name for e in registered} >= nodes and set(made) >= namespaces:
            break
        time.sleep(0.2)
    for e in registered:
        try:
            events.delete(name=e.metadata.name, namespace="default")
        except NotFoundError:
            pass
    ns_api = admin.resources.get(api_version="v1", kind="Namespace")
    for ns, cm in made.items():
        born = ns_api.get(name=ns).metadata.creationTimestamp
        body = cm.to_dict()
        # its one write was its making: no entry then (the API server keeps an update that changes only the
        # entries' times from changing them, so `[{}]` strips them and its creation says when)
        body["metadata"]["managedFields"] = [{}]
        config_maps.replace(body=body, namespace=ns)
        k8s_etcd.set_created(etcd_url, "configmaps", ns, cm.metadata.name, datetime.fromisoformat(born))


def _pod_logs(state_dir: Path, copied: list[tuple[str, str | None, str]]) -> list[dict]:
    """Each copied pod's container logs (current and previous) as the loader serves them, written to files in
    the container runtime's format for kwok to serve; kwok's Logs objects naming them."""
    out = state_dir / "pod-logs"
    shutil.rmtree(out, ignore_errors=True)
    found = []
    with emulator_client(k8s.kubeconfig_path(_loader(state_dir))) as loader:
        for plural, ns, name in copied:
            if plural != "pods":
                continue
            path = f"/api/v1/namespaces/{ns}/pods/{name}"
            spec = loader.get(path).json()["spec"]
            files: dict[str, Path] = {}
            previous: dict[str, Path] = {}
            for c in [*spec.get("initContainers", []), *spec["containers"]]:
                for was, into in ((False, files), (True, previous)):
                    r = loader.get(f"{path}/log", params={"container": c["name"], "timestamps": "true",
                                                          "previous": str(was).lower()})
                    lines = [line.split(" ", 1) for line in r.text.splitlines() if " " in line] \
                        if r.status_code == 200 else []
                    into[c["name"]] = file = out / ns / name / f"{c['name']}{'.previous' if was else ''}.log"
                    file.parent.mkdir(parents=True, exist_ok=True)
                    file.write_text("".join(f"{at} stdout F {text}\n" for at, text in lines))
            found.append(controlplane_cluster.logs(ns, name, files, previous))
    return found
