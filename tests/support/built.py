"""The real Kubernetes components' binaries for a test: skipped, saying why, only when Go is missing (CI builds
them in scripts/bootstrap.sh); with Go but no binaries the test fails saying what to run."""

from __future__ import annotations

import shutil

import pytest

from sandbox import controlplane


def require_components() -> None:
    try:
        controlplane.binaries()
    except controlplane.ControlPlaneMissing as e:
        if shutil.which("go") is None:
            pytest.skip(f"Go is not installed, so the Kubernetes components cannot be built ({e})")
        pytest.fail(str(e))
