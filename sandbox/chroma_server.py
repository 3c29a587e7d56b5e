"""The sandbox's Chroma server (`chroma run`, the venv's console script): one knowledge store that several
opsbot processes share through knowledge.chroma_url. Loopback only, data in state_dir/chroma-data."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from sandbox import procs

NAME = "chroma"


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def start(state_dir: Path, port: int) -> str:
    """Start the server, wait for its heartbeat, return its URL (the value of knowledge.chroma_url)."""
    data = state_dir / "chroma-data"
    data.mkdir(parents=True, exist_ok=True)
    chroma = Path(sys.executable).with_name("chroma")  # installed with chromadb, beside this interpreter
    argv = [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)]
    pid = procs.start(NAME, argv, state_dir)

    def ready() -> bool:
        try:
            return httpx.get(f"{url(port)}/api/v2/heartbeat", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    procs.wait_until(NAME, ready, pid, state_dir)
    return url(port)
