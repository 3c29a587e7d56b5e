"""Intake beside a bare webhook server, in one run: alerts/s and ack latency of opsbot's Alertmanager webhook and of
a bare FastAPI app that only XADDs each request's body to a Redis stream, both served by uvicorn in a child
process on the same Redis (AOF on), both fed the same bodies by the same load generator.

    python bench/intake_ratio.py                 # 5,000 alerts, one per request, then in groups of 20
    python bench/intake_ratio.py --alerts 2000 --batch 1

Three servers per batch size: the bare one; opsbot's webhooks alone (no triage worker running: the intake path
only, its stream drained afterwards to count what was stored); and opsbot as `opsbot serve` runs it (webhooks and
two label-only triage workers in one process, sharing its CPU). Each prints alerts/s, p50/p99 ack latency and
alerts lost (accepted with a 2xx but not in the stream); the ratio is opsbot's alerts/s over the bare server's.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis.asyncio as aredis
import uvicorn
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alert_storm import pct, send  # noqa: E402
from bench.served import served, stored_alerts, wait_ready  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode  # noqa: E402
from sandbox import procs  # noqa: E402

BARE_STREAM = "bare:alerts"


def bare(redis_url: str, port: int) -> None:
    """The bare server (the child process): read the body, XADD it, answer how many alerts it held."""
    app, client = FastAPI(), aredis.Redis.from_url(redis_url)

    @app.post("/webhooks/alertmanager")
    async def alertmanager(request: Request) -> dict[str, object]:
        body = await request.body()
        await client.xadd(BARE_STREAM, {"body": body})
        return {"status": "accepted", "alerts": body.count(b'"startsAt"')}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


@contextmanager
def bare_served(redis_url: str) -> Iterator[str]:
    port = procs.free_port()
    child = mp.get_context("spawn").Process(target=bare, args=(redis_url, port), daemon=True)
    child.start()
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        yield url
    finally:
        child.terminate()
        child.join(5)


def bodies(alerts: int, batch: int, run: str) -> list[bytes]:
    out = []
    for first in range(0, alerts, batch):
        group = [am_alert({"alertname": "KubePodCrashLooping", "namespace": "bench", "severity": "warning",
                           "pod": f"pod-{i}", "container": "app", "run": run},
                          {"description": f"Pod bench/pod-{i} (app) is in waiting state (reason: CrashLoopBackOff)."})
                 for i in range(first, min(first + batch, alerts))]
        out.append(encode(am_payload(group, group_by=("alertname", "pod"))))
    return out


def measure(url: str, body_list: list[bytes], concurrency: int) -> tuple[int, float, list[float], dict[int, int]]:
    t = time.perf_counter()
    accepted, latencies, statuses = asyncio.run(send(url, body_list, concurrency))
    return accepted, time.perf_counter() - t, [x * 1000 for x in latencies], statuses


def row(name: str, accepted: int, took: float, lat: list[float], stored: int, statuses: dict[int, int]) -> float:
    rate = accepted / took
    print(f"  {name:<28} {rate:>8,.0f} alerts/s   p50 {pct(lat, 50):6.1f} ms   p99 {pct(lat, 99):6.1f} ms   "
          f"lost {accepted - stored}   statuses {statuses}")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=5000)
    ap.add_argument("--batch", type=int, action="append", help="alerts per request (default: 1 and 20)")
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    for batch in args.batch or [1, 20]:
        print(f"intake: {args.alerts} alerts, {batch} per request, {args.concurrency} concurrent senders")
        with served("bench:intake:", workers=0) as alone:
            r = alone.redis
            with bare_served(alone.redis_url) as url:
                accepted, took, lat, statuses = measure(url, bodies(args.alerts, batch, "bare"), args.concurrency)
                stored = stored_alerts(r, BARE_STREAM, b"body")
                base = row("bare FastAPI + XADD", accepted, took, lat, stored, statuses)
            accepted, took, lat, statuses = measure(alone.url, bodies(args.alerts, batch, "alone"), args.concurrency)
            rate = row("opsbot webhooks alone", accepted, took, lat, alone.stored(), statuses)
            print(f"  {'ratio':<28} {rate / base:8.2f}x")
        with served("bench:intake:", workers=2) as full:
            accepted, took, lat, statuses = measure(full.url, bodies(args.alerts, batch, "served"), args.concurrency)
            full.drain()
            rate = row("opsbot serve (2 workers)", accepted, took, lat, full.stored(), statuses)
            print(f"  {'ratio':<28} {rate / base:8.2f}x")


if __name__ == "__main__":
    main()
