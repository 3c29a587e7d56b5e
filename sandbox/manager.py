"""The sandbox: real local servers on loopback, the settings that point opsbot at them, and scenario loading."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox import chroma_server, es, k8s, k8s_real, loki, procs, prom, redis_server
from sandbox.scenario import Scenario

DEMO_POLICY = Path(__file__).parent / "policy.yaml"  # the demo's members: cli:demo is an on-call lead
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there, connections are refused
SERVICES = ("redis", "elasticsearch", "loki", "kubernetes", "exporter", "prometheus", "alertmanager")
SERVE_PORT_FILE = "serve.port"  # kept by `down`: opsbot's webhook port stays the same across restarts
KUBERNETES = ("emulator", "real")  # the sandbox's Kubernetes: our emulator, or the real control plane (k8s_real)


def intake_url(port: int) -> str:
    """opsbot's Alertmanager webhook on loopback at `port`."""
    return f"http://127.0.0.1:{port}/webhooks/alertmanager"


@dataclass
class Ports:
    redis: int
    elasticsearch: int
    kubernetes: int
    exporter: int
    prometheus: int
    alertmanager: int
    chroma: int | None = None  # only in a sandbox that shares its knowledge through a Chroma server
    loki: int | None = None  # None only in a ports file written before the sandbox ran Loki

    @classmethod
    def fresh(cls, chroma: bool = False) -> Ports:
        return cls(**{name: procs.free_port() for name in SERVICES}, chroma=procs.free_port() if chroma else None)


def for_scenario(settings: dict[str, Any], scenario: Scenario, state_dir: Path) -> dict[str, Any]:
    """opsbot's settings for a loaded scenario: chat in its namespaces, and each backend it marks
    `unreachable` pointed at a port nothing listens on."""
    out = {**settings, "chat": {"namespaces": scenario.cluster.namespaces}}
    for backend in scenario.unreachable:
        if backend == "kubernetes":
            dead = state_dir / "kubeconfig-unreachable.yaml"
            k8s.write_kubeconfig(dead, UNREACHABLE, "unreachable")
            out["kubernetes"] = {"kubeconfig": str(dead)}
        else:
            out[backend] = {**out[backend], "url": UNREACHABLE}
    return out


class Sandbox:
    """One sandbox lives in one state directory: pid files, logs, data dirs, ports and opsbot.yaml."""

    def __init__(self, state_dir: Path, chroma: bool = False, kubernetes: str | None = None):
        """`chroma`: `up` also starts a Chroma server and points knowledge.chroma_url at it, so that several
        opsbot processes share one knowledge store. Off by default: the persistent directory starts faster.
        `kubernetes`: "emulator" or "real" (one of KUBERNETES); by default what the running sandbox has, else
        the emulator."""
        self.dir = state_dir.resolve()
        self.chroma = chroma
        if kubernetes is not None and kubernetes not in KUBERNETES:
            raise procs.SandboxError(f"unknown Kubernetes '{kubernetes}': use one of {', '.join(KUBERNETES)}")
        self.real = kubernetes == "real" if kubernetes else k8s_real.is_real(self.dir)

    @property
    def settings_file(self) -> Path:
        return self.dir / "opsbot.yaml"

    @property
    def _ports_file(self) -> Path:
        return self.dir / "ports.json"

    def ports(self) -> Ports:
        if not self._ports_file.exists():
            raise procs.SandboxError(f"no sandbox in {self.dir}; run `opsbot sandbox up` first")
        return Ports(**json.loads(self._ports_file.read_text()))

    def up(self) -> Ports:
        """Start every server that is not already running (idempotent) and write opsbot.yaml."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self._ports_file.exists() and all(self.status().values()):
            return self.ports()
        self.down()
        ports = Ports.fresh(self.chroma)
        self._ports_file.write_text(json.dumps(asdict(ports)))
        prom.post_alerts_to(self.dir, intake_url(self.serve_port()))
        try:
            redis_server.start(self.dir, ports.redis)
            es.start(self.dir, ports.elasticsearch)
            loki.start(self.dir, self._loki(ports))
            if self.real:
                k8s_real.start(self.dir, ports.kubernetes)
            else:
                k8s.start(self.dir, ports.kubernetes)
            prom.start(self.dir, ports.exporter, ports.prometheus, ports.alertmanager,
                       k8s_real.metrics_target(self.dir) if self.real else None)
            if ports.chroma is not None:
                chroma_server.start(self.dir, ports.chroma)
        except BaseException:
            self.down()  # a start that fails part-way leaves nothing running (a taken port, a missing binary)
            raise
        self._write_settings(ports)
        return ports

    def down(self) -> list[str]:
        stopped = [name for name in reversed((*SERVICES, chroma_server.NAME)) if procs.stop(name, self.dir)]
        if k8s_real.stop(self.dir):
            stopped.append("kubernetes (real)")
        self._ports_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, bool]:
        return {name: k8s_real.running(self.dir) if name == "kubernetes" and self.real
                else procs.running_pid(name, self.dir) is not None for name in self._services()}

    def _services(self) -> tuple[str, ...]:
        """The servers this sandbox runs: Chroma's too when asked for, or when the running sandbox has it."""
        shared = self.chroma or (self._ports_file.exists() and self.ports().chroma is not None)
        return (*SERVICES, chroma_server.NAME) if shared else SERVICES

    def load(self, scenario: Scenario) -> float:
        """Put the scenario into every backend, times relative to now (or to its pinned clock). Returns the
        instant its offsets count from (epoch s)."""
        ports = self.ports()
        t0 = scenario.t0(time.time())
        if self.real:
            k8s_real.load(self.dir, ports.kubernetes, scenario, t0)
        else:
            k8s.load(self.dir, ports.kubernetes, scenario, t0)
        self.load_logs(scenario, t0)
        prom.load(self.dir, ports.exporter, ports.prometheus, ports.alertmanager, scenario, t0)
        (self.dir / "scenario.name").write_text(scenario.name)
        settings = for_scenario(self._settings(ports), scenario, self.dir)
        self.settings_file.write_text(yaml.safe_dump(settings, sort_keys=False))
        return t0

    def load_logs(self, scenario: Scenario, t0: float) -> None:
        """The scenario's log lines into Elasticsearch and Loki alike, at the same times."""
        ports = self.ports()
        es.load(ports.elasticsearch, scenario, t0)
        loki.load(self._loki(ports), scenario, t0)

    def serve_port(self) -> int:
        """The port `opsbot serve` on this sandbox's settings listens on (webhooks.port) and Alertmanager posts
        to: chosen once per state directory, kept across `down`, `up` and `load`."""
        path = self.dir / SERVE_PORT_FILE
        if not path.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            path.write_text(str(procs.free_port()))
        return int(path.read_text())

    @contextmanager
    def run_port(self) -> Iterator[int]:
        """The port a run on the sandbox (the demo, an eval scenario) serves opsbot's webhooks on: the serve
        port when nothing listens there, so Alertmanager's receiver never changes. When an `opsbot serve`
        holds it, a free port that Alertmanager posts to (from the next `load`) until the block ends; then
        Alertmanager posts to the serve port again, reloaded at once, so that `serve` receives alerts."""
        port = self.serve_port()
        if not procs.port_open(port):
            yield port
            return
        own = procs.free_port()
        prom.post_alerts_to(self.dir, intake_url(own))
        try:
            yield own
        finally:
            running = procs.running_pid("alertmanager", self.dir) is not None and self._ports_file.exists()
            prom.post_alerts_to(self.dir, intake_url(port), self.ports().alertmanager if running else None)

    @staticmethod
    def _loki(ports: Ports) -> int:
        if ports.loki is None:
            raise procs.SandboxError("this sandbox was started before it ran Loki: run `opsbot sandbox up` again")
        return ports.loki

    def loaded(self) -> str | None:
        path = self.dir / "scenario.name"
        return path.read_text() if path.exists() else None

    def _write_settings(self, ports: Ports) -> None:
        self.settings_file.write_text(yaml.safe_dump(self._settings(ports), sort_keys=False))

    def _settings(self, ports: Ports) -> dict[str, Any]:
        return {
            "redis": {"url": f"redis://127.0.0.1:{ports.redis}/0"},
            "prometheus": {"url": f"http://127.0.0.1:{ports.prometheus}"},
            "alertmanager": {"url": f"http://127.0.0.1:{ports.alertmanager}"},
            "elasticsearch": {"url": f"http://127.0.0.1:{ports.elasticsearch}", "index": "logs-*"},
            "loki": {"url": loki.url(self._loki(ports))},  # the same logs, read with `logs.backend: loki`
            "kubernetes": {"kubeconfig": str(k8s.kubeconfig_path(self.dir))},
            "knowledge": {"path": str(self.dir / "knowledge"),
                          **({"chroma_url": chroma_server.url(ports.chroma)} if ports.chroma is not None else {})},
            # where Alertmanager posts (loopback only: the sandbox's Alertmanager sends no token)
            "webhooks": {"host": "127.0.0.1", "port": self.serve_port(), "alertmanager_open": True},
            "policy_file": str(DEMO_POLICY),  # the demo's identities; a real install names its own approvers
            "cli": {"identity": "cli:demo"},
        }
