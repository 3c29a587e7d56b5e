"""Alert storm: N Alertmanager alerts over F fingerprints through the real HTTP endpoint (uvicorn on
loopback, a throwaway Redis), processed by the triage workers. Prints accepted, lost, incidents, cards,
ack latency p50/p99 and throughput.

    python bench/alert_storm.py                      # 10,000 alerts, 500 fingerprints, 1 alert per request
    python bench/alert_storm.py --batch 20           # Alertmanager-style groups of 20 alerts per request

The server (webhooks + workers, as `opsbot serve` runs them) is a child process; the load generator is
this one (asyncio + httpx), so the two do not share a GIL. Triage uses a label-only evidence provider:
this bench measures intake, dedup and cards, not backend checks (see bench/triage_latency.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.served import served  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode  # noqa: E402

PREFIX = "bench:storm:"


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


async def storm(url: str, alerts: int, fingerprints: int, batch: int, concurrency: int) -> tuple[int, list[float],
                                                                                                  dict[int, int]]:
    started = datetime.now(UTC)
    bodies = []
    for first in range(0, alerts, batch):
        group = [am_alert({"alertname": "StormAlert", "namespace": "bench", "severity": "warning",
                           "pod": f"pod-{i % fingerprints}"}, {"sample": str(i)}, starts_at=started)
                 for i in range(first, min(first + batch, alerts))]
        bodies.append(encode(am_payload(group)))
    return await send(url, bodies, concurrency)


async def send(url: str, bodies: list[bytes], concurrency: int) -> tuple[int, list[float], dict[int, int]]:
    """POST every body to /webhooks/alertmanager from `concurrency` senders: alerts accepted, latencies, statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    # aiohttp, not httpx.AsyncClient: the latter costs ~10 ms per request on this machine and would measure itself
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        async def sender() -> None:
            nonlocal accepted
            while not queue.empty():
                body = queue.get_nowait()
                t = time.perf_counter()
                async with client.post("/webhooks/alertmanager", data=body,
                                       headers={"Content-Type": "application/json"}) as r:
                    answer = await r.json()
                latencies.append(time.perf_counter() - t)
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status == 200:
                    accepted += answer.get("alerts", 0)
        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return accepted, latencies, statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=10_000)
    ap.add_argument("--fingerprints", type=int, default=500)
    ap.add_argument("--batch", type=int, default=1, help="alerts per webhook request (one Alertmanager group)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    with served(PREFIX, args.workers) as opsbot:
        url, r = opsbot.url, opsbot.redis
        t0 = time.perf_counter()
        accepted, latencies, statuses = asyncio.run(
            storm(url, args.alerts, args.fingerprints, args.batch, args.concurrency))
        acked_in = time.perf_counter() - t0

        stream = f"{PREFIX}alerts"

        def processed() -> int:
            seq = int(r.get(f"{PREFIX}incident:seq") or 0)
            pipe = r.pipeline()
            for i in range(1, seq + 1):
                pipe.hget(f"{PREFIX}incident:inc-{i}", "count")
            return sum(int(c or 0) for c in pipe.execute())

        opsbot.drain()
        done_in = time.perf_counter() - t0
        stored = opsbot.stored()
        applied = processed()
        incidents = int(r.get(f"{PREFIX}incident:seq") or 0)
        cards = sum(1 for k in r.scan_iter(f"{PREFIX}card:*", count=1000) if not k.endswith(b":messages"))
        posted = sum(1 for _ in r.scan_iter(f"{PREFIX}card:*:messages", count=1000))
        lat_ms = [x * 1000 for x in latencies]
        print(f"alert storm: {args.alerts} alerts over {args.fingerprints} fingerprints, {args.batch} per request, "
              f"{args.concurrency} concurrent senders, {args.workers} workers")
        print(f"  requests            {len(latencies)}  statuses {statuses}")
        print(f"  alerts accepted     {accepted}")
        print(f"  stored in stream    {stored}")
        print(f"  processed (counted) {applied}")
        print(f"  lost                {accepted - stored} at intake, {stored - applied} in processing")
        print(f"  incidents           {incidents}")
        print(f"  cards stored/posted {cards}/{posted}")
        print(f"  ack latency         p50 {pct(lat_ms, 50):.1f} ms   p99 {pct(lat_ms, 99):.1f} ms   "
              f"max {max(lat_ms):.1f} ms")
        print(f"  intake throughput   {accepted / acked_in:,.0f} alerts/s ({acked_in:.2f} s)")
        print(f"  end-to-end          {applied / done_in:,.0f} alerts/s processed ({done_in:.2f} s until the "
              f"stream was drained)")


if __name__ == "__main__":
    main()
