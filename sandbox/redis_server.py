"""The sandbox's redis-server: loopback only, with an append-only file, as production Redis should run."""

from __future__ import annotations

from pathlib import Path

import redis

from sandbox import procs


def start(state_dir: Path, port: int) -> None:
    data = state_dir / "redis-data"
    data.mkdir(parents=True, exist_ok=True)
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"]
    pid = procs.start("redis", argv, state_dir)
    client = redis.Redis(port=port, socket_timeout=0.5)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    procs.wait_until("redis", ready, pid, state_dir)
