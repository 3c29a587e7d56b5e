"""Alert → card latency on the sandbox, without a model: webhook, stream, worker, the read checks through
the door against the real local backends (Kubernetes emulator, Elasticsearch API, Prometheus), card posted.

    python bench/triage_latency.py [--runs 30] [--scenario crashloop-missing-env]

Brings a sandbox up in a temporary directory (or reuses --dir), loads the scenario, posts its alert with a
distinct `bench_run` label, grouped by it, per run (each run is its own Alertmanager group, so its own incident and
card), and times POST → card posted. Interrupted or terminated, it stops the sandbox it started.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.cards.poster import ConsolePoster  # noqa: E402
from bot.intake.pipeline import build_pipeline  # noqa: E402
from bot.intake.webhooks.server import ThreadedServer  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from sandbox import scenario  # noqa: E402
from sandbox.manager import Sandbox  # noqa: E402

CARD_DEADLINE_S = 30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--scenario", default="crashloop-missing-env")
    ap.add_argument("--dir", type=Path, default=None, help="sandbox state dir (default: a temporary one)")
    args = ap.parse_args()

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a terminated bench still runs `finally`
    own = args.dir is None
    sb = Sandbox(args.dir or Path(tempfile.mkdtemp(prefix="opsbot-triage-bench-")))
    sb.up()
    try:
        sc, latencies, evidence_lines, failed_checks, missed = run(sb, args.scenario, args.runs)
    finally:
        if own:
            sb.down()
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        sys.exit(f"no card was posted within {CARD_DEADLINE_S} s in {args.runs} runs")
    q = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"triage latency, scenario {sc.name}, {args.runs} alerts, no model (read checks through the door)")
    print(f"  alert → card   p50 {q[49]:.0f} ms   p95 {q[94]:.0f} ms   max {ms[-1]:.0f} ms")
    print(f"  evidence lines per card: {statistics.mean(evidence_lines):.1f}; checks that could not run: "
          f"{failed_checks}; runs with no card within {CARD_DEADLINE_S} s: {missed}")


def run(sb: Sandbox, name: str, runs: int) -> tuple:
    """Fire `runs` alerts, each its own group, and time each until its card is posted."""
    sc = scenario.load(name)
    sb.load(sc)
    poster = ConsolePoster()
    p = build_pipeline(load_settings(sb.settings_file), [poster], prefix=f"bench:triage:{int(time.time())}:")
    p.start_workers(2)  # warms the backend clients first, as `opsbot serve` does
    rule = sc.alerts[0]
    latencies, evidence_lines, failed_checks, missed = [], [], 0, 0
    try:
        with ThreadedServer(p.app) as server, httpx.Client(base_url=server.url) as client:
            for i in range(runs):
                labels = {"alertname": rule.name, **rule.labels, "bench_run": str(i)}
                alert = am_alert(labels, rule.annotations)
                body = encode(am_payload([alert], group_by=("alertname", "bench_run")))
                before = len(poster.posts())
                t = time.perf_counter()
                assert client.post("/webhooks/alertmanager", content=body).status_code == 200
                while len(poster.posts()) == before and time.perf_counter() < t + CARD_DEADLINE_S:
                    time.sleep(0.002)
                if len(poster.posts()) == before:
                    missed += 1
                    continue
                latencies.append(time.perf_counter() - t)
                card = poster.posts()[-1].card
                evidence_lines.append(len(card.evidence))
                failed_checks += len(card.could_not_run)
    finally:
        p.stop_workers()
    return sc, latencies, evidence_lines, failed_checks, missed


if __name__ == "__main__":
    main()
