"""A sandbox whose start fails part-way leaves nothing running: the servers it had started are stopped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.manager import Sandbox


def test_a_start_that_fails_part_way_stops_what_it_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"  # redis-server can be found, prometheus cannot: the start fails at Prometheus
    bin_dir.mkdir()
    (bin_dir / "redis-server").symlink_to(shutil.which("redis-server") or "/usr/bin/redis-server")
    monkeypatch.setenv("PATH", str(bin_dir))
    sb = Sandbox(tmp_path / "sb")
    with pytest.raises(Exception):  # noqa: B017 - whatever the failure, the point is what is left behind
        sb.up()
    assert not any(sb.status().values()), f"left running: {sb.status()}"
    assert not (tmp_path / "sb" / "ports.json").exists()
