"""An emulator of its own holding tests/sandbox/data/every-kind.yaml (one of every kind), or another data file
there, for module fixtures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox import k8s, procs, scenario

EVERY_KIND = Path(__file__).parent.parent / "sandbox" / "data" / "every-kind.yaml"


@contextmanager
def every_kind_cluster(state: Path, data: Path = EVERY_KIND) -> Iterator[Path]:
    """Start the emulator in `state`, load `data` at its pinned clock (or now); yields the kubeconfig path."""
    port = procs.free_port()
    k8s.start(state, port)
    try:
        loaded = scenario.load(str(data))
        k8s.load(state, port, loaded, loaded.t0(time.time()))
        yield k8s.kubeconfig_path(state)
    finally:
        procs.stop(k8s.NAME, state)

