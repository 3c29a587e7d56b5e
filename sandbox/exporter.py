"""The sandbox's live exporter: /metrics with every scenario series' value now, and the emulated cluster's
kube-state-metrics and cAdvisor series (sandbox/k8s_state_metrics.py), for Prometheus to scrape.

    python -m sandbox.exporter --port P --state-dir D

It reads the scenario and t0 that `sandbox.prom.load` writes to D/exporter.json at each request (cached by
mtime), so loading another scenario needs no restart. With nothing loaded it serves an empty page.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sandbox.k8s import LOADER as K8S_LOADER
from sandbox.k8s import kubeconfig_path as k8s_kubeconfig
from sandbox.recovery import ClusterWatch
from sandbox.scenario import Metrics, Scenario, Series
from sandbox.signals import families, format_labels, labels_of, value_at

STATE_FILE = "exporter.json"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def write_state(state_dir: Path, scenario: Scenario, t0: float) -> None:
    """What the exporter serves from now on; written atomically so a scrape never reads half a file."""
    tmp = state_dir / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps({"t0": t0, "scenario": scenario.model_dump(mode="json", by_alias=True)}))
    tmp.replace(state_dir / STATE_FILE)


class _State:
    def __init__(self, state_dir: Path, emulated: bool = True):
        self.path = state_dir / STATE_FILE
        self._mtime: int | None = None
        self._loaded: tuple[Scenario, float] | None = None
        self._lock = threading.Lock()
        self.watch = ClusterWatch(k8s_kubeconfig(state_dir),
                                  None if emulated else k8s_kubeconfig(state_dir / K8S_LOADER))

    def current(self) -> tuple[Scenario, float] | None:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                self._mtime, self._loaded = None, None
                return None
            if mtime != self._mtime:
                raw = json.loads(self.path.read_text())
                self._loaded = (Scenario.model_validate(raw["scenario"]), float(raw["t0"]))
                self._mtime = mtime
                self.watch.reset()
            return self._loaded


def _help(text: str) -> str:
    """The text format escapes only backslashes and newlines in HELP."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def live_value(series: Series, metrics: Metrics, t: float, recovered: float | None) -> float:
    """The series' value at t (offset from t0), or what it became once the cluster recovered at `recovered`."""
    if series.recovery is None or recovered is None or t < recovered:
        return value_at(series, metrics, t)
    if series.type == "gauge":
        return series.recovery.value
    return value_at(series, metrics, recovered) + series.recovery.value * (t - recovered)


def _by_family(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """Exposition text as family -> (its # lines, its samples), so families the scenario also writes merge."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            out.setdefault(line.split()[2], ([], []))[0].append(line)
        elif line and not line.startswith("#"):
            out.setdefault(line.split("{")[0].split(" ")[0], ([], []))[1].append(line)
    return out


def render(scenario: Scenario | None, t0: float, now: float, watch: ClusterWatch | None = None) -> str:
    """The Prometheus text exposition of every series at `now` (epoch seconds), stamped with that instant."""
    if scenario is None:
        return ""

    def recovered(s: Series) -> float | None:
        if s.recovery is None or watch is None:
            return None
        at = watch.recovered_at(s.labels["namespace"], s.recovery.deployment, now, s.recovery.replicas_at_most)
        return None if at is None else at - t0
    now_ms = int(now * 1000)
    # a scenario sample carries the instant it is the value of, so a slow scrape shifts nothing; the cluster's
    # carry none, so a pod that is gone goes stale at the next scrape instead of lingering for 5 minutes
    now = now_ms / 1000
    cluster = _by_family(watch.state_metrics()) if watch is not None else {}
    lines = []
    for name, members in families(scenario.metrics.series).items():
        if members[0].help:
            lines.append(f"# HELP {name} {_help(members[0].help)}")
        lines.append(f"# TYPE {name} {members[0].type}")
        for s in members:
            value = live_value(s, scenario.metrics, now - t0, recovered(s))
            lines.append(f"{name}{format_labels(labels_of(s))} {value!r} {now_ms}")
        lines += cluster.pop(name, ([], []))[1]
    for name, (header, samples) in cluster.items():  # a family the scenario does not write itself
        lines += header + samples
    return "\n".join(lines) + "\n"


def serve(port: int, state_dir: Path, emulated: bool = True) -> None:
    """`emulated`: the sandbox's Kubernetes is the emulator, whose kube-state-metrics series are served here (else
    only the cAdvisor ones of the emulator that loaded the scenario)."""
    state = _State(state_dir, emulated)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            loaded = state.current()
            body = (render(*loaded, time.time(), state.watch) if loaded else "").encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - scrapes every 5 s: stay quiet
            return

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--real-kubernetes", action="store_true",
                        help="the real control plane's kube-state-metrics is scraped: serve only the emulated "
                        "cAdvisor series")
    args = parser.parse_args()
    serve(args.port, args.state_dir, emulated=not args.real_kubernetes)


if __name__ == "__main__":
    main()
