"""opsbot as `opsbot serve` runs it, for the benches: webhooks and triage workers in a child process (so the load
generator does not share its GIL), on a throwaway Redis with an AOF, with label-only triage."""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from sandbox import procs, redis_server


def serve(redis_url: str, port: int, workers: int, webhooks: dict[str, object] | None = None,
          prefix: str = "bench:", wait_replicas: int = 0) -> None:
    """opsbot's webhooks and workers as `opsbot serve` runs them, with label-only triage (the child process)."""
    import structlog

    from bot.cards.model import EvidenceLine
    from bot.cards.poster import ConsolePoster
    from bot.intake.alert import Alert
    from bot.intake.pipeline import build_pipeline
    from bot.settings import Settings
    from bot.triage.evidence import Evidence
    from bot.triage.triage import Triage
    from bot.wiring import build_door

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only
    settings = Settings(redis={"url": redis_url, "wait_replicas": wait_replicas},
                        webhooks={"port": port, "alertmanager_open": True, **(webhooks or {})})

    def labels_only(alert: Alert, incident: str | None) -> Evidence:
        return Evidence(lines=[EvidenceLine(check="labels", text=str(alert.labels))])

    door = build_door(settings, prefix=prefix)
    p = build_pipeline(settings, [ConsolePoster()], prefix=prefix, door=door, triage=Triage(door, collect=labels_only))
    p.start_workers(workers, warm=False)
    p.serve("127.0.0.1", port, log_level="error")


@dataclass
class Served:
    url: str
    redis: redis.Redis
    prefix: str
    redis_url: str

    def stored(self) -> int:
        """Alerts written to the intake stream so far (what a 2xx promised): each entry is one delivery, so its
        payload's alerts are counted, the way the bare server's are."""
        return stored_alerts(self.redis, f"{self.prefix}alerts", b"payload")

    def drain(self, timeout: float = 120) -> None:
        """Wait until the workers have read and acknowledged everything in the stream."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = self.redis.xinfo_groups(f"{self.prefix}alerts")
            if groups and groups[0]["pending"] == 0 and groups[0]["lag"] == 0:
                return
            time.sleep(0.05)


def stored_alerts(client: redis.Redis, stream: str, field: bytes, batch: int = 1000) -> int:
    """Alerts in a stream of stored webhook bodies (one `"startsAt"` per Alertmanager alert), all entries."""
    total, low = 0, "-"
    while rows := client.xrange(stream, low, "+", count=batch):
        total += sum(fields[field].count(b'"startsAt"') for _, fields in rows)
        low = "(" + rows[-1][0].decode()
    return total


def wait_ready(url: str, timeout: float = 180) -> None:
    """Until `url`/readyz answers 200 (a loaded machine can take a minute to start the child); a clear error
    rather than a run against a server that is not there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} was not ready within {timeout:.0f}s")


@contextmanager
def served(prefix: str, workers: int = 2, webhooks: dict[str, object] | None = None,
           replicas: int = 0) -> Iterator[Served]:
    """Start Redis and opsbot, wait until /readyz says ready, and stop both afterwards. With `replicas`, Redis
    has that many replicas and every alert waits for all of them (`redis.wait_replicas`)."""
    state = Path(tempfile.mkdtemp(prefix="opsbot-bench-"))
    rport, port = procs.free_port(), procs.free_port()
    names = ["redis", *(f"redis-replica-{i}" for i in range(replicas))]
    redis_url, url = f"redis://127.0.0.1:{rport}/0", f"http://127.0.0.1:{port}"
    server = mp.get_context("spawn").Process(
        target=serve, args=(redis_url, port, workers, webhooks, prefix, replicas), daemon=True)
    try:
        redis_server.start(state, rport)
        for name in names[1:]:
            redis_server.start(state, procs.free_port(), name, replica_of=rport)
        primary, deadline = redis.Redis(port=rport), time.monotonic() + 30
        while redis_server.online_replicas(primary) < replicas and time.monotonic() < deadline:
            time.sleep(0.05)
        server.start()
        wait_ready(url)
        yield Served(url, redis.Redis.from_url(redis_url), prefix, redis_url)
    finally:
        if server.pid is not None:
            server.terminate()
            server.join(5)
        for name in names:
            procs.stop(name, state)
