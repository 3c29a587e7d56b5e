"""A sandbox whose start fails part-way leaves nothing running: the servers it had started are stopped; a real
Kubernetes asked for but not built is said in words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
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


def test_a_real_kubernetes_that_is_not_built_is_said_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSBOT_CONTROLPLANE_CACHE", str(tmp_path / "empty-cache"))  # nothing built there
    state = tmp_path / "sb"
    done = CliRunner().invoke(app, ["sandbox", "up", "--kubernetes", "real", "--dir", str(state)])
    assert done.exit_code == 1
    assert "the real control plane cannot start" in done.output and "run scripts/bootstrap.sh" in done.output
    assert "Traceback" not in done.output
    assert not any(Sandbox(state).status().values()), "nothing is left running"


def test_an_unknown_kubernetes_is_refused() -> None:
    done = CliRunner().invoke(app, ["sandbox", "up", "--kubernetes", "kind"])
    assert done.exit_code == 1 and "--kubernetes must be one of emulator, real, not 'kind'" in done.output
