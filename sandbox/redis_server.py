"""The sandbox's redis-server: loopback only, with an append-only file, as production Redis should run."""

from __future__ import annotations

from pathlib import Path

import redis

from sandbox import procs


def start(state_dir: Path, port: int, name: str = "redis", replica_of: int | None = None) -> None:
    """A redis-server named `name` in the state dir; with `replica_of`, a replica of the one on that port."""
    data = state_dir / f"{name}-data"
    data.mkdir(parents=True, exist_ok=True)
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"]
    if replica_of:
        argv += ["--replicaof", "127.0.0.1", str(replica_of)]
    pid = procs.start(name, argv, state_dir)
    wait_ready(name, redis.Redis(port=port, socket_timeout=0.5), pid, state_dir)


def wait_ready(name: str, client: redis.Redis, pid: int, state_dir: Path) -> None:
    """Wait until the redis-server (or sentinel) behind `client` answers PING."""

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    procs.wait_until(name, ready, pid, state_dir)


def online_replicas(primary: redis.Redis) -> int:
    """How many replicas have synced with this primary and follow it (INFO replication)."""
    info = primary.info("replication")
    return sum(1 for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)
               and v.get("state") == "online")
