"""How far one Redis carries opsbot: alerts/s through the webhook into the stream and on to incidents and cards,
the Redis CPU each alert costs, and the bytes each stored incident keeps in Redis.

    python bench/redis_capacity.py                     # 3,000 alerts on one Redis with an AOF (as production)
    python bench/redis_capacity.py --wait-replicas 1   # plus a replica that must hold each alert before its 2xx

Every alert is its own fingerprint and its own Alertmanager group (kube-prometheus's KubePodCrashLooping with
its annotations), so each opens an incident and gets a card: the costly case. opsbot runs as `opsbot serve`
does, in a child process (bench/served.py: webhooks and worker threads, label-only triage, no chat posting).
Redis CPU is INFO's used_cpu_{user,sys}_main_thread over the run (the thread that executes every command);
memory is MEMORY USAGE of every key opsbot wrote, by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alert_storm import pct, send  # noqa: E402
from bench.served import served  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode  # noqa: E402

PREFIX = "bench:capacity:"
RUNBOOK = "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping"
KEPT, MONTH = "kept", "30 days"
KINDS = [  # what each key opsbot writes is, matched after the prefix, and how long it stays
    ("timelines", r"incident:inc-\d+:timeline", KEPT),
    ("incidents", r"incident:.*", KEPT),
    ("audit", r"audit", KEPT),
    ("cards", r"card:.*", MONTH),
    ("groups", r"group:.*", MONTH),
    ("alert stream", r"alerts(:dead)?", "capped at intake.stream_maxlen entries"),
    ("applied markers", r"applied:.*", "the dedup window"),
    ("delivery markers", r"delivery:.*", "the replay window"),
    ("other", r".*", KEPT),
]

def bodies(alerts: int) -> list[bytes]:
    out = []
    for i in range(alerts):
        labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"cap-{i}",
                  "container": "app", "job": "kube-state-metrics", "severity": "warning"}
        notes = {"summary": "Pod is crash looping.", "runbook_url": RUNBOOK,
                 "description": f"Pod shop/cap-{i} (app) is in waiting state (reason: \"CrashLoopBackOff\")."}
        alert = am_alert(labels, notes, generator_url="http://prometheus:9090/graph?g0.expr=kube_pod_container")
        out.append(encode(am_payload([alert], group_by=("alertname", "namespace", "pod"))))
    return out


def usage(r: redis.Redis) -> tuple[float, int, int]:
    """Redis's main-thread CPU seconds, commands run (those inside Lua scripts too) and bytes used, so far."""
    info = r.info()
    return (float(info["used_cpu_user_main_thread"]) + float(info["used_cpu_sys_main_thread"]),
            int(info["total_commands_processed"]), int(info["used_memory"]))


def memory_by_kind(r: redis.Redis) -> dict[str, tuple[int, int]]:
    """kind → (keys, bytes) over every key under the prefix."""
    keys = list(r.scan_iter(f"{PREFIX}*", count=1000))
    pipe = r.pipeline(transaction=False)
    for k in keys:
        pipe.memory_usage(k, samples=0)
    out: dict[str, tuple[int, int]] = {}
    for key, size in zip(keys, pipe.execute(), strict=True):
        rest = key.decode()[len(PREFIX):]
        kind = next(name for name, pattern, _ in KINDS if re.fullmatch(pattern, rest))
        n, total = out.get(kind, (0, 0))
        out[kind] = (n + 1, total + (size or 0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--wait-replicas", type=int, default=0, help="replicas that must hold each alert (WAIT)")
    args = ap.parse_args()

    payloads = bodies(args.alerts)
    with served(PREFIX, args.workers, replicas=args.wait_replicas) as opsbot:
        r = opsbot.redis
        before, t0 = usage(r), time.perf_counter()
        accepted, latencies, statuses = asyncio.run(send(opsbot.url, payloads, args.concurrency))
        acked_in = time.perf_counter() - t0
        opsbot.drain()
        done_in = time.perf_counter() - t0
        cpu, commands, memory = (after - first for after, first in zip(usage(r), before, strict=True))
        incidents = int(r.get(f"{PREFIX}incident:seq") or 0)
        kinds = memory_by_kind(r)

    n, lat_ms = max(incidents, 1), [x * 1000 for x in latencies]
    print(f"redis capacity: {args.alerts} alerts, each its own incident and card, {args.concurrency} concurrent "
          f"senders, {args.workers} workers, {args.wait_replicas} replicas waited for")
    print(f"  statuses            {statuses}; accepted {accepted}, incidents {incidents}")
    print(f"  ack latency         p50 {pct(lat_ms, 50):.1f} ms   p99 {pct(lat_ms, 99):.1f} ms")
    print(f"  intake              {accepted / acked_in:,.0f} alerts/s answered 2xx ({acked_in:.2f} s)")
    print(f"  end to end          {incidents / done_in:,.0f} incidents/s with their cards ({done_in:.2f} s)")
    print(f"  Redis commands      {commands / n:.0f} per alert (Lua's own included)")
    print(f"  Redis CPU           {cpu * 1e6 / n:,.0f} µs per alert (main thread): its one core would last to "
          f"~{n / max(cpu, 1e-9):,.0f} alerts/s, were opsbot to send them that fast")
    print(f"  Redis memory        {memory / 1e6:.1f} MB more after the run (used_memory)")
    for name, _, lives in KINDS:
        if name in kinds:
            keys, size = kinds[name]
            print(f"    {name:<18}{keys:>7} keys {size / 1e6:8.2f} MB  {size / n:7.0f} B/incident  ({lives})")
    kept, month = (sum(kinds.get(name, (0, 0))[1] for name, _, lives in KINDS if lives == how) / n
                   for how in (KEPT, MONTH))
    print(f"  per incident        {kept:,.0f} B kept for good, {month:,.0f} B more for 30 days: 1 GB holds "
          f"~{1e9 / (kept + month):,.0f} incidents of the last 30 days, ~{1e9 / kept:,.0f} older ones")


if __name__ == "__main__":
    main()
