"""The sandbox's Loki (the emulator of sandbox/loki_emulator.py) and the loading of a scenario's logs into it.

A scenario log document becomes a line of the stream labelled as Promtail labels a Kubernetes pod's logs, with the
level as a label too: `namespace`, `pod` (when the scenario names one), `app` (the service) and `level`. The line is
the message; its timestamps are the ones sandbox/es.py gives the same document, so Elasticsearch and Loki hold the
same lines at the same times.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from sandbox import es, procs
from sandbox.scenario import Scenario

NAME = "loki"
_ROOT = Path(__file__).resolve().parents[1]


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def start(state_dir: Path, port: int) -> None:
    """Run the emulator on loopback:port and wait until it is ready."""
    pythonpath = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    argv = [sys.executable, "-m", "sandbox.loki_emulator", "--port", str(port)]
    pid = procs.start(NAME, argv, state_dir, env={"PYTHONPATH": pythonpath})

    def ready() -> bool:
        try:
            return httpx.get(f"{url(port)}/ready", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    procs.wait_until(NAME, ready, pid, state_dir)


EVERY_LINE = '{namespace=~".+"}'  # every line a scenario pushes names its namespace
END_OF_TIME = 4_102_444_800  # 2100-01-01: a pinned scenario clock may put lines after now


def load(port: int, scenario: Scenario, t0: float) -> int:
    """Replace every scenario line Loki holds with this scenario's (one stream per label set), so two scenarios'
    lines never mix; returns how many were pushed."""
    streams: dict[tuple[tuple[str, str], ...], list[list[str]]] = {}
    for doc in scenario.logs.documents:
        labels = {"namespace": doc.namespace, "app": doc.service, "level": doc.level, **({"pod": doc.pod} if doc.pod else {})}
        values = streams.setdefault(tuple(sorted(labels.items())), [])
        for source in es.expand(doc, t0):
            at = datetime.fromisoformat(source["@timestamp"].replace("Z", "+00:00"))
            values.append([str(round(at.timestamp() * 1000) * 1_000_000), doc.message])
    body = {"streams": [{"stream": dict(key), "values": values} for key, values in streams.items()]}
    _call(port, "delete", scenario, params={"query": EVERY_LINE, "start": 0, "end": END_OF_TIME})
    _call(port, "push", scenario, json=body)
    return sum(len(v) for v in streams.values())


def _call(port: int, what: str, scenario: Scenario, **request: Any) -> None:
    try:
        r = httpx.post(f"{url(port)}/loki/api/v1/{what}", timeout=30, **request)
    except httpx.HTTPError as e:
        raise procs.SandboxError(f"{NAME}: {what} for {scenario.name!r}'s logs failed: {e}") from None
    if r.status_code != 204:
        raise procs.SandboxError(f"{NAME}: Loki refused the {what} for {scenario.name!r}'s logs: HTTP "
                                 f"{r.status_code} {r.text[:300]}")
