"""A throwaway redis-server for the sandbox: loopback only, nothing kept on disk."""

from __future__ import annotations

from pathlib import Path

import redis

from sandbox import procs


def start(state_dir: Path, port: int) -> None:
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    pid = procs.start("redis", argv, state_dir)
    client = redis.Redis(port=port, socket_timeout=0.5)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    procs.wait_until("redis", ready, pid, state_dir)
