"""STUB (being written): start the Kubernetes API emulator, write its kubeconfig, load a scenario's cluster."""
from __future__ import annotations
from pathlib import Path
from sandbox.scenario import Scenario


def kubeconfig_path(state_dir: Path) -> Path:
    return state_dir / "kubeconfig.yaml"


def start(state_dir: Path, port: int) -> None:
    return None  # stub


def load(state_dir: Path, port: int, scenario: Scenario, t0: float) -> None:
    return None  # stub
