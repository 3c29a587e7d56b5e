"""Starting, watching and stopping the sandbox's server processes (pid files and logs in the state dir)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class SandboxError(Exception):
    """The sandbox could not do what was asked; the message says which server and where its log is."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child still answers kill(0); reap it if it is ours
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def start(name: str, argv: list[str], state_dir: Path, env: dict[str, str] | None = None) -> int:
    """Start a server detached from this process (own session), logging to state_dir/name.log."""
    log = open(state_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=state_dir,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    except FileNotFoundError:
        raise SandboxError(f"{name}: {argv[0]} is not installed; run scripts/bootstrap.sh") from None
    finally:
        log.close()
    (state_dir / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def wait_until(name: str, ready: Callable[[], bool], pid: int, state_dir: Path, timeout: float = 20.0) -> None:
    """Poll `ready` until it holds; fail with the server's last log lines if it dies or times out."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while time.monotonic() < deadline:
        if ready():
            return
        if not pid_alive(pid):
            raise SandboxError(f"{name} exited at start-up:\n{tail_log(name, state_dir)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    raise SandboxError(f"{name} not ready after {timeout:.0f}s:\n{tail_log(name, state_dir)}")


def tail_log(name: str, state_dir: Path, lines: int = 15) -> str:
    path = state_dir / f"{name}.log"
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + f"\n(full log: {path})"


def running_pid(name: str, state_dir: Path) -> int | None:
    path = state_dir / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and pid_alive(pid) else None


def stop(name: str, state_dir: Path, timeout: float = 10.0) -> bool:
    """Stop a server by its pid file: SIGTERM to its process group, SIGKILL if it lingers."""
    pid = running_pid(name, state_dir)
    (state_dir / f"{name}.pid").unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    if not _gone(pid, timeout):
        _signal_group(pid, signal.SIGKILL)
    return True


def kill(name: str, state_dir: Path, timeout: float = 10.0) -> None:
    """SIGKILL a server, as a crash would end it (no shutdown, nothing flushed), and wait until it is gone."""
    pid = running_pid(name, state_dir)
    (state_dir / f"{name}.pid").unlink(missing_ok=True)
    if pid is None:
        return
    _signal_group(pid, signal.SIGKILL)
    _gone(pid, timeout)


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not pid_alive(pid)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
