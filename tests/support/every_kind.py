"""An emulator of its own holding tests/sandbox/data/every-kind.yaml (one of every kind), for module fixtures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox import k8s, procs, scenario

EVERY_KIND = Path(__file__).parent.parent / "sandbox" / "data" / "every-kind.yaml"


@contextmanager
def every_kind_cluster(state: Path) -> Iterator[Path]:
    """Start the emulator in `state`, load the scenario at its pinned clock; yields the kubeconfig path."""
    port = procs.free_port()
    k8s.start(state, port)
    try:
        loaded = scenario.load(str(EVERY_KIND))
        k8s.load(state, port, loaded, loaded.t0(time.time()))
        yield k8s.kubeconfig_path(state)
    finally:
        procs.stop(k8s.NAME, state)

