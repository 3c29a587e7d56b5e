"""Intake beside a bare webhook server, in one run: alerts/s and ack latency of opsbot's Alertmanager webhook and of
a bare FastAPI app that only XADDs each request's body to a Redis stream, both served by uvicorn in a child
process on the same Redis (AOF on), both fed the same bodies by the same load generator.

    python bench/intake_ratio.py                 # 5,000 alerts, one per request, then in groups of 20
    python bench/intake_ratio.py --alerts 2000 --batch 1

Three servers per batch size: the bare one; opsbot's webhooks alone (no triage worker running: the intake path
only, its stream drained afterwards to count what was stored); and opsbot as `opsbot serve` runs it (webhooks and
two label-only triage workers in one process, sharing its CPU). Each prints alerts/s, p50/p99 ack latency and
alerts lost (accepted with a 2xx but not in the stream); the ratio is opsbot's alerts/s over the bare server's.
Each server first takes 100 warm-up requests (stored and counted for losses, not for the rate), and the bare
server and opsbot's webhooks take turns (--rounds), so a machine that slows during the run slows both.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class Tally:
    """One server's figures over its rounds (the warm-up counts towards what must be stored, not the rate)."""
    accepted: int = 0
    took: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    warm: int = 0

    def run(self, url: str, body_list: list[bytes], concurrency: int) -> None:
        t = time.perf_counter()
        accepted, latencies, statuses = asyncio.run(send(url, body_list, concurrency))
        self.took += time.perf_counter() - t
        self.accepted += accepted
        self.latencies += [x * 1000 for x in latencies]
        self.statuses.update(statuses)

    def warm_up(self, url: str, batch: int, concurrency: int, run: str) -> None:
        """Requests before the measured ones, so each server's first-request costs (lazy imports, pools) are
        paid outside its rate."""
        accepted, _, _ = asyncio.run(send(url, bodies(WARM_UP * batch, batch, run), concurrency))
        self.warm += accepted

    def row(self, name: str, stored: int) -> float:
        rate = self.accepted / self.took
        print(f"  {name:<28} {rate:>8,.0f} alerts/s   p50 {pct(self.latencies, 50):6.1f} ms   "
              f"p99 {pct(self.latencies, 99):6.1f} ms   lost {self.accepted + self.warm - stored}   "
              f"statuses {dict(self.statuses)}")
        return rate


WARM_UP = 100  # requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=5000)
    ap.add_argument("--batch", type=int, action="append", help="alerts per request (default: 1 and 20)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2, help="the bare server and opsbot take turns, this many each")
    args = ap.parse_args()
    share = args.alerts // args.rounds
    for batch in args.batch or [1, 20]:
        print(f"intake: {share * args.rounds} alerts, {batch} per request, {args.concurrency} concurrent senders, "
              f"{args.rounds} turns each after {WARM_UP} warm-up requests")
        bare, alone, full = Tally(), Tally(), Tally()
        with served("bench:intake:", workers=0) as opsbot, bare_served(opsbot.redis_url) as url:
            bare.warm_up(url, batch, args.concurrency, "bare-warm")
            alone.warm_up(opsbot.url, batch, args.concurrency, "alone-warm")
            for turn in range(args.rounds):
                bare.run(url, bodies(share, batch, f"bare-{turn}"), args.concurrency)
                alone.run(opsbot.url, bodies(share, batch, f"alone-{turn}"), args.concurrency)
            base = bare.row("bare FastAPI + XADD", stored_alerts(opsbot.redis, BARE_STREAM, b"body"))
            rate = alone.row("opsbot webhooks alone", opsbot.stored())
            print(f"  {'ratio':<28} {rate / base:8.2f}x")
        with served("bench:intake:", workers=2) as opsbot:
            full.warm_up(opsbot.url, batch, args.concurrency, "served-warm")
            for turn in range(args.rounds):
                full.run(opsbot.url, bodies(share, batch, f"served-{turn}"), args.concurrency)
            opsbot.drain()
            rate = full.row("opsbot serve (2 workers)", opsbot.stored())
            print(f"  {'ratio':<28} {rate / base:8.2f}x (to the bare server above)")


if __name__ == "__main__":
    main()
