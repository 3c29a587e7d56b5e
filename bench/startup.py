"""What a person waits for before a command answers: CPU time, wall time and peak memory of each command, side
by side in one run with a bare `python -c pass` and (when installed) kubectl against the same API.

    python bench/startup.py [--runs 5] [--dir SANDBOX_DIR]

Brings a sandbox up in a temporary directory (or reuses --dir), loads crashloop-missing-env, then runs each
command `--runs` times as a child process and prints the median of each figure (the child's own rusage:
user+system CPU and its peak resident memory). `serve` is timed from start until /readyz answers 200, then
stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox import k8s, scenario  # noqa: E402
from sandbox.manager import Sandbox  # noqa: E402

OPSBOT = [sys.executable, "-c", "from bot.cli.main import main; main()"]  # the console script, from this tree


# a small fresh interpreter runs each command and reports its child's rusage: a child forked (or vforked) from
# this process would start its peak memory at this process's own
MEASURE = r"""
import json, os, signal, sys, time, urllib.request
ready, argv = sys.argv[1], sys.argv[2:]
null = os.open(os.devnull, os.O_WRONLY)
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(null, 1); os.dup2(null, 2)
    os.execv(argv[0], argv)
wall = None
if ready:
    while wall is None and os.waitpid(pid, os.WNOHANG) == (0, 0):
        try:
            with urllib.request.urlopen(ready, timeout=0.5) as r:
                wall = time.monotonic() - started if r.status == 200 else None
        except OSError:
            time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "wall": wall or time.monotonic() - started,
                  "mib": usage.ru_maxrss / 1024, "exit": os.waitstatus_to_exitcode(status)}))
"""


def _child(argv: list[str], ready: str | None = None) -> tuple[float, float, float]:
    """(CPU s, wall s, peak MiB) of one run; with `ready`, until that URL answers 200, then it is stopped."""
    out = subprocess.run([sys.executable, "-c", MEASURE, ready or "", *argv], capture_output=True, text=True,
                         check=True)
    m = json.loads(out.stdout)
    if not ready and m["exit"] != 0:
        raise RuntimeError(f"exit {m['exit']}")
    return m["cpu"], m["wall"], m["mib"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=None, help="sandbox state dir (default: a temporary one)")
    args = ap.parse_args()
    sb = Sandbox(args.dir or Path(tempfile.mkdtemp(prefix="opsbot-startup-bench-")))
    sb.up()
    try:
        sb.load(scenario.load("crashloop-missing-env"))
        config = ["--config", str(sb.settings_file)]
        port = _free_port()
        rows: list[tuple[str, list[str], str | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("opsbot --help", [*OPSBOT, "--help"], None),
            ("opsbot tool k8s_list --namespace shop", [*OPSBOT, "tool", "k8s_list", *config, "--namespace", "shop"],
             None),
            ("opsbot action list", [*OPSBOT, "action", "list", *config], None),
            ("opsbot incident list", [*OPSBOT, "incident", "list", *config], None),
            ("opsbot config check", [*OPSBOT, "config", "check", *config], None),
            ("opsbot serve until /readyz", [*OPSBOT, "serve", *config, "--port", str(port)],
             f"http://127.0.0.1:{port}/readyz"),
        ]
        kubectl = shutil.which("kubectl")
        if kubectl:
            rows.insert(3, ("kubectl get pods -n shop (same API)", [kubectl, "--kubeconfig", str(k8s.kubeconfig_path(sb.dir)),
                                                         "get", "pods", "-n", "shop"], None))
        print(f"{'command':<42} {'CPU s':>7} {'wall s':>7} {'peak MiB':>9}   (median of {args.runs})")
        for name, argv, ready in rows:
            try:
                runs = [_child(argv, ready) for _ in range(args.runs)]
            except RuntimeError as e:
                print(f"{name:<42} failed ({e}): run it by hand to see why")
                continue
            cpu, wall, mem = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{name:<42} {cpu:>7.2f} {wall:>7.2f} {mem:>9.0f}")
        if not kubectl:
            print("kubectl is not installed here: its row is left out")
    finally:
        if args.dir is None:
            sb.down()


if __name__ == "__main__":
    main()
