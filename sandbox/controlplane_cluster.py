"""The rest of a real cluster beside a running control plane: kube-scheduler, kube-controller-manager, kwok's
controller as every node's kubelet, and kube-state-metrics.

`start(cp)` writes a kubeconfig for each component (its own static token, see controlplane.COMPONENTS), starts the
four on free loopback ports and waits until each answers its health check; `stop(state_dir)` ends them. kwok runs
the stages below: a node becomes Ready with 127.0.0.1 as its address and kwok's own port as its kubelet's (so the
API server fetches pod logs from kwok, which reads them from the files `logs` names); a scheduled pod starts running
and is ready; a Job's running pod completes; a deleted pod goes. A node or pod annotated SCENARIO_STATUS keeps the
status it was given (a scenario's crash loop, a pending pod, a node that is not ready): no stage touches it.
A new pod annotated FAILS_AS (from its template: the copy puts it on the templates whose pods fail in the
scenario, sandbox/k8s_copy.py) fails as the scenario's pods do, per container: it crash-loops (its restart count
grows every BACK_OFF_MS, its last termination the scenario's reason and exit code) or waits (ImagePullBackOff,
CreateContainerConfigError, … : Pending); a pod whose template no longer carries it (a rollback) runs.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from sandbox import controlplane, k8s, procs
from sandbox.controlplane import ControlPlane

SCHEDULER, CONTROLLERS, KWOK, KSM = "kube-scheduler", "kube-controller-manager", "kwok", "kube-state-metrics"
NAMES = (SCHEDULER, CONTROLLERS, KWOK, KSM)
SCENARIO_STATUS = "sandbox.opsbot/status-from-scenario"
# {container: {"waiting": "CrashLoopBackOff", "reason": "Error", "exitCode": 1} | {"waiting": "ImagePullBackOff"}}
FAILS_AS = "sandbox.opsbot/fails-as"
NODE_LEASE_SECONDS = 40  # a kubelet's default
BACK_OFF_MS = 10_000  # between two crashes of a crash-looping new pod (a kubelet's first back-off)
POD_CIDR = "10.244.0.0/16"

_UNOWNED = {"key": f'.metadata.annotations["{SCENARIO_STATUS}"]', "operator": "DoesNotExist"}
_LIVE = {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"}
_HEALTHY = {"key": f'.metadata.annotations["{FAILS_AS}"]', "operator": "DoesNotExist"}
_FAILING = {"key": f'.metadata.annotations["{FAILS_AS}"]', "operator": "Exists"}
_NODE_READY = """\
{{ $now := Now }}
conditions:
- {type: Ready, status: "True", reason: KubeletReady, message: kwok is the kubelet,
   lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
{{ range list "MemoryPressure" "DiskPressure" "PIDPressure" "NetworkUnavailable" }}
- {type: {{ . }}, status: "False", reason: KubeletReady,
   lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }}}
{{ end }}
addresses:
- {type: InternalIP, address: {{ NodeIP | Quote }}}
daemonEndpoints:
  kubeletEndpoint:
    Port: {{ NodePort }}
{{ with .status.capacity }}capacity: {{ YAML . 1 }}{{ else }}capacity: {cpu: "32", memory: 128Gi, pods: "110"}{{ end }}
{{ with .status.allocatable }}allocatable: {{ YAML . 1 }}{{ else }}allocatable: {cpu: "32", memory: 128Gi, pods: "110"}{{ end }}
nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: {{ printf "kwok-%s" Version | Quote }}}
phase: Running
"""
_POD_RUNNING = """\
{{ $now := Now }}
conditions:
{{ range list "PodScheduled" "Initialized" "ContainersReady" "Ready" }}
- {type: {{ . }}, status: "True", lastTransitionTime: {{ $now | Quote }}}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0,
   state: {running: {startedAt: {{ $now | Quote }}}}}
{{ end }}
{{ with NodeIPWith .spec.nodeName }}hostIP: {{ . | Quote }}{{ end }}
{{ with PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace }}podIP: {{ . | Quote }}{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""
_POD_COMPLETED = """\
{{ $now := Now }}
containerStatuses:
{{ range .spec.containers }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 0,
   state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}
{{ end }}
phase: Succeeded
"""


_POD_FAILING = """\
{{ $now := Now }}
{{ $fails := fromJson (index .metadata.annotations "%s") }}
{{ $phase := "Running" }}
conditions:
{{ range list "PodScheduled" "Initialized" }}
- {type: {{ . }}, status: "True", lastTransitionTime: {{ $now | Quote }}}
{{ end }}
{{ range list "ContainersReady" "Ready" }}
- {type: {{ . }}, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
{{ $f := index $fails .name }}
{{ if not $f }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: true, started: true, restartCount: 0,
   state: {running: {startedAt: {{ $now | Quote }}}}}
{{ else if eq $f.waiting "CrashLoopBackOff" }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 1,
   state: {waiting: {reason: CrashLoopBackOff, message: {{ printf "back-off 10s restarting failed container=%%s" .name | Quote }}}},
   lastState: {terminated: {exitCode: {{ $f.exitCode }}, reason: {{ $f.reason | Quote }}, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}
{{ else }}
{{ $phase = "Pending" }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false, restartCount: 0,
   state: {waiting: {reason: {{ $f.waiting | Quote }}}}}
{{ end }}
{{ end }}
{{ with NodeIPWith .spec.nodeName }}hostIP: {{ . | Quote }}{{ end }}
{{ with PodIPWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace }}podIP: {{ . | Quote }}{{ end }}
phase: {{ $phase }}
startTime: {{ $now | Quote }}
""" % FAILS_AS
_POD_CRASHED_AGAIN = """\
{{ $now := Now }}
{{ $fails := fromJson (index .metadata.annotations "%s") }}
containerStatuses:
{{ range .status.containerStatuses }}
{{ $f := index $fails .name }}
{{ if and $f (eq $f.waiting "CrashLoopBackOff") }}
- {name: {{ .name | Quote }}, image: {{ .image | Quote }}, ready: false, started: false,
   restartCount: {{ add1 .restartCount }}, state: {waiting: {{ toJson .state.waiting }}},
   lastState: {terminated: {exitCode: {{ $f.exitCode }}, reason: {{ $f.reason | Quote }}, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}}
{{ else }}
- {{ toJson . }}
{{ end }}
{{ end }}
""" % FAILS_AS


def _stage(name: str, kind: str, match: list[dict], then: dict, delay_ms: int | None = None) -> dict:
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Stage", "metadata": {"name": name},
            "spec": {"resourceRef": {"apiGroup": "v1", "kind": kind}, "selector": {"matchExpressions": match},
                     **({"delay": {"durationMilliseconds": delay_ms}} if delay_ms else {}), "next": then}}


def _not_true(condition: str) -> dict:
    return {"key": f'.status.conditions.[] | select( .type == "{condition}" ) | .status', "operator": "NotIn",
            "values": ["True"]}


_PENDING = {"key": ".status.phase", "operator": "In", "values": ["Pending"]}
_NOT_STARTED = {"key": ".status.containerStatuses", "operator": "DoesNotExist"}
_CRASH_LOOPING = {"key": ".status.containerStatuses.[].state.waiting.reason", "operator": "In",
                  "values": ["CrashLoopBackOff"]}

STAGES = [
    _stage("node-ready", "Node", [_UNOWNED, _not_true("Ready")], {"statusTemplate": _NODE_READY}),
    _stage("pod-running", "Pod", [_UNOWNED, _LIVE, _HEALTHY, _PENDING, _not_true("Ready")],
           {"statusTemplate": _POD_RUNNING}),
    _stage("pod-failing", "Pod", [_UNOWNED, _LIVE, _FAILING, _PENDING, _NOT_STARTED],
           {"statusTemplate": _POD_FAILING}),
    _stage("pod-crashed-again", "Pod", [_UNOWNED, _LIVE, _FAILING, _CRASH_LOOPING],
           {"statusTemplate": _POD_CRASHED_AGAIN}, delay_ms=BACK_OFF_MS),
    _stage("job-pod-completed", "Pod", [_UNOWNED, _LIVE, _HEALTHY, {"key": ".status.phase", "operator": "In",
                                                                    "values": ["Running"]},
                                        {"key": ".metadata.ownerReferences.[].kind", "operator": "In",
                                         "values": ["Job"]}], {"statusTemplate": _POD_COMPLETED}),
    _stage("pod-deleted", "Pod", [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}], {"delete": True}),
]


@dataclass(frozen=True)
class Cluster:
    """What the components serve: kwok's kubelet port, kube-state-metrics' metrics URL, and the ports they
    listen on (a component restarted keeps its port)."""

    kwok_port: int
    metrics_url: str
    ports: dict[str, int]


def logs(namespace: str, pod: str, files: dict[str, Path], previous: dict[str, Path] | None = None) -> dict:
    """kwok's Logs object: each container of the pod reads its log (and its previous instance's) from a file
    in the container runtime's log format (`<RFC 3339 time> stdout F <line>`)."""
    entries = [{"containers": [container], "logsFile": str(path),
                **({"previousLogsFile": str(previous[container])} if previous and container in previous else {})}
               for container, path in files.items()]
    return {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
            "metadata": {"name": pod, "namespace": namespace}, "spec": {"logs": entries}}


def _kubeconfig(cp: ControlPlane, name: str) -> Path:
    path = cp.state_dir / f"{name}.kubeconfig.yaml"
    k8s.write_kubeconfig(path, cp.url, cp.tokens[name], certificate_authority=cp.ca_file)
    return path


def _healthy(url: str, verify: ssl.SSLContext | bool = True) -> bool:
    try:
        return httpx.get(url, verify=verify, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _start(name: str, argv: list[str], health: str, state_dir: Path, verify: bool = True) -> None:
    pid = procs.start(name, argv, state_dir)
    procs.wait_until(name, lambda: _healthy(health, verify), pid, state_dir, timeout=controlplane.START_TIMEOUT)


def start_component(cp: ControlPlane, name: str, port: int, pod_logs: list[dict] | None = None) -> None:
    """Start one of NAMES on `port` and wait until it is healthy; `pod_logs` are kwok's Logs objects (`logs`)."""
    state, certs = cp.state_dir, cp.ca_file.parent
    kubeconfig = str(_kubeconfig(cp, name))
    if name in (SCHEDULER, CONTROLLERS):
        extra = ["--use-service-account-credentials", "--service-account-private-key-file", str(certs / "sa.key"),
                 "--root-ca-file", str(cp.ca_file)] if name == CONTROLLERS else []
        # the health endpoint is served over TLS with a self-signed certificate the component makes itself
        _start(name, [str(controlplane.binaries() / name), "--kubeconfig", kubeconfig,
                      "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
                      "--bind-address", "127.0.0.1", "--secure-port", str(port), "--leader-elect=false", *extra],
               f"https://127.0.0.1:{port}/healthz", state, verify=False)
    elif name == KWOK:
        config = state / "kwok.yaml"
        config.write_text(yaml.safe_dump_all([*STAGES, *(pod_logs or [])], sort_keys=False))
        _start(KWOK, [str(controlplane.addon_binaries() / KWOK), "--kubeconfig", kubeconfig, "--config", str(config),
                      "--manage-all-nodes", "--node-ip", "127.0.0.1", "--node-port", str(port),
                      "--server-address", f"127.0.0.1:{port}", "--cidr", POD_CIDR,
                      # each node's lease renewed as a kubelet's is, so that the node lifecycle controller keeps
                      # the nodes as the scenario has them, not Unknown and tainted unreachable once it expires
                      "--node-lease-duration-seconds", str(NODE_LEASE_SECONDS)],
               f"http://127.0.0.1:{port}/healthz", state)
    else:
        _start(KSM, [str(controlplane.addon_binaries() / KSM), "--kubeconfig", kubeconfig, "--host", "127.0.0.1",
                     "--port", str(port), "--telemetry-host", "127.0.0.1", "--telemetry-port",
                     str(procs.free_port())],
               f"http://127.0.0.1:{port}/healthz", state)


def start(cp: ControlPlane) -> Cluster:
    """Start the four beside `cp` (kwok with no pod logs yet); on failure all are stopped."""
    controlplane.addon_binaries()  # says what is missing before anything starts
    ports = {name: procs.free_port() for name in NAMES}
    try:
        for name in NAMES:
            start_component(cp, name, ports[name])
    except procs.SandboxError:
        stop(cp.state_dir)
        raise
    return Cluster(ports[KWOK], f"http://127.0.0.1:{ports[KSM]}/metrics", ports)


def stop(state_dir: Path) -> None:
    for name in reversed(NAMES):
        procs.stop(name, state_dir)
