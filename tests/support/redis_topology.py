"""Real Redis topologies on loopback for the tests: one TLS server, or a primary, its replica and three
sentinels (Debian's redis-server, run with --sentinel), optionally TLS-only; a crash is a SIGKILL."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bot.settings import RedisSettings
from sandbox import procs, redis_server
from tests.support.alerting import wait_for

MASTER = "mymaster"
THROWAWAY = ["--save", "", "--appendonly", "no"]


@dataclass(frozen=True)
class Tls:
    """A self-signed certificate for 127.0.0.1 that is also its own CA; clients need not present one."""

    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path) -> Tls:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / "cert.pem", folder / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                        "-out", str(cert)], check=True, capture_output=True)
        return cls(cert, key)

    def config(self, port: int) -> list[tuple[str, str]]:
        """TLS only (no plaintext port), replication and sentinel links over TLS too."""
        return [("port", "0"), ("tls-port", str(port)), ("tls-cert-file", str(self.cert)),
                ("tls-key-file", str(self.key)), ("tls-ca-cert-file", str(self.cert)),
                ("tls-auth-clients", "no"), ("tls-replication", "yes")]

    def client_kwargs(self) -> dict[str, Any]:
        return {"ssl": True, "ssl_ca_certs": str(self.cert)}


def _listen(port: int, tls: Tls | None) -> list[tuple[str, str]]:
    return tls.config(port) if tls else [("port", str(port))]


def _args(config: list[tuple[str, str]]) -> list[str]:
    return [word for key, value in config for word in (f"--{key}", value)]


def client(port: int, tls: Tls | None = None) -> redis.Redis:
    tls_kwargs = tls.client_kwargs() if tls else {}
    return redis.Redis("127.0.0.1", port, socket_timeout=1, decode_responses=True, **tls_kwargs)


def start_server(state: Path, name: str, port: int, tls: Tls | None = None, *extra: str) -> None:
    argv = ["redis-server", "--bind", "127.0.0.1", "--dir", str(state), *THROWAWAY, *_args(_listen(port, tls)), *extra]
    pid = procs.start(name, argv, state)
    redis_server.wait_ready(name, client(port, tls), pid, state)


@dataclass
class SentinelSet:
    """A primary, its replica and three sentinels that agree (quorum 2) and fail over within seconds."""

    state: Path
    tls: Tls | None
    primary: int = field(default_factory=procs.free_port)
    replica: int = field(default_factory=procs.free_port)
    sentinels: list[int] = field(default_factory=lambda: [procs.free_port() for _ in range(3)])

    def url(self) -> str:
        return f"rediss://127.0.0.1/0?ssl_ca_certs={self.tls.cert}" if self.tls else "redis://127.0.0.1/0"

    def settings(self, wait_replicas: int) -> RedisSettings:
        return RedisSettings(url=self.url(), sentinels=[f"127.0.0.1:{p}" for p in self.sentinels],
                             sentinel_master=MASTER, timeout_s=1.0, wait_replicas=wait_replicas, wait_timeout_s=0.5)

    def node(self, port: int) -> redis.Redis:
        return client(port, self.tls)

    def start_primary(self, *extra: str) -> None:
        start_server(self.state, "primary", self.primary, self.tls, *extra)

    def start(self) -> None:
        self.start_primary()
        start_server(self.state, "replica", self.replica, self.tls, "--replicaof", "127.0.0.1", str(self.primary))
        for i, port in enumerate(self.sentinels):
            conf = self.state / f"sentinel-{i}.conf"  # a sentinel rewrites its own file: one each
            conf.write_text("\n".join(f"{k} {v}" for k, v in [
                ("bind", "127.0.0.1"), ("dir", str(self.state)), *_listen(port, self.tls),
                ("sentinel monitor", f"{MASTER} 127.0.0.1 {self.primary} 2"),
                ("sentinel down-after-milliseconds", f"{MASTER} 1000"),
                ("sentinel failover-timeout", f"{MASTER} 3000")]) + "\n")
            pid = procs.start(f"sentinel-{i}", ["redis-server", str(conf), "--sentinel"], self.state)
            redis_server.wait_ready(f"sentinel-{i}", self.node(port), pid, self.state)

    def agreed(self) -> bool:
        """Every sentinel sees the replica and the two other sentinels: a failover can happen."""
        states = [self.node(p).sentinel_master(MASTER) for p in self.sentinels]
        return all(s["num-slaves"] >= 1 and s["num-other-sentinels"] == 2 for s in states)

    def primary_named(self) -> set[int]:
        """The primary's port as each sentinel names it."""
        return {int(self.node(p).sentinel_get_master_addr_by_name(MASTER)[1]) for p in self.sentinels}

    def replicas_online(self, port: int) -> int:
        return redis_server.online_replicas(self.node(port))

    def stop(self) -> None:
        for name in ["primary", "replica", *(f"sentinel-{i}" for i in range(len(self.sentinels)))]:
            procs.stop(name, self.state)


@contextmanager
def sentinel_set(state: Path, tls: Tls | None = None) -> Iterator[SentinelSet]:
    s = SentinelSet(state, tls)
    try:
        s.start()
        wait_for(lambda: s.replicas_online(s.primary), 20, "the replica to sync")
        wait_for(s.agreed, 30, "the sentinels to find the replica and each other")
        yield s
    finally:
        s.stop()


@contextmanager
def tls_server(state: Path) -> Iterator[tuple[int, Tls]]:
    tls, port = Tls.make(state / "tls"), procs.free_port()
    start_server(state, "redis-tls", port, tls)
    try:
        yield port, tls
    finally:
        procs.stop("redis-tls", state)
