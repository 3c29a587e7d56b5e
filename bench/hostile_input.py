"""Hostile input: generated hostile bodies, interleaved with valid deliveries, through the real webhooks.

    python bench/hostile_input.py                    # 5,000 hostile + 500 valid, seed 1
    python bench/hostile_input.py --hostile 20000 --seed 7

opsbot's webhooks and triage workers run as `opsbot serve` runs them (a child process, a throwaway Redis with
an AOF). Hostile bodies (bench/hostile_payloads.py) go to the Alertmanager endpoint with its bearer token and
to the Sentry endpoint validly signed, so they reach the parser; every tenth request is a valid Alertmanager
alert of its own. Prints the status counts per endpoint, the 5xx, and how many valid deliveries answered 2xx
never became an incident (lost).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hostile_payloads import hostile_body  # noqa: E402
from bench.served import Served, served  # noqa: E402
from bot.intake.fingerprint import fingerprint  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode, sentry_headers, sentry_issue  # noqa: E402

PREFIX = "bench:hostile:"
TOKEN, SECRET, LIMIT = "bench-am-token", "bench-sentry-secret", 1_000_000


def labels(i: int) -> dict[str, str]:
    return {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"valid-{i}", "severity": "warning"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hostile", type=int, default=5_000)
    ap.add_argument("--every", type=int, default=10, help="one valid delivery after this many hostile ones")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    webhooks = {"alertmanager_token": TOKEN, "sentry_client_secret": SECRET, "max_body_bytes": LIMIT}
    with served(PREFIX, 2, webhooks) as opsbot:
        run(opsbot, args)


def run(opsbot: Served, args: argparse.Namespace) -> None:
    url = opsbot.url
    rnd = random.Random(args.seed)
    valid_am = encode(am_payload([am_alert(labels(-1))]))
    valid_sentry = encode(sentry_issue("9001", "KeyError: 'user'"))
    statuses: dict[str, Counter[int]] = {"alertmanager": Counter(), "sentry": Counter(), "valid": Counter()}
    kinds_5xx: Counter[str] = Counter()
    accepted: list[int] = []
    with httpx.Client(timeout=30) as client:
        t0 = time.perf_counter()
        for i in range(args.hostile):
            endpoint = "alertmanager" if i % 2 == 0 else "sentry"
            kind, body = hostile_body(rnd, valid_am if endpoint == "alertmanager" else valid_sentry, LIMIT)
            headers = ({"Authorization": f"Bearer {TOKEN}"} if endpoint == "alertmanager"
                       else sentry_headers(SECRET, body))
            reply = client.post(f"{url}/webhooks/{endpoint}", content=body,
                                headers={**headers, "Content-Type": "application/json"})
            statuses[endpoint][reply.status_code] += 1
            if reply.status_code >= 500:
                kinds_5xx[f"{endpoint}: {kind}"] += 1
            if i % args.every == args.every - 1:
                n = i // args.every
                v = client.post(f"{url}/webhooks/alertmanager", content=encode(am_payload([am_alert(labels(n))])),
                                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
                statuses["valid"][v.status_code] += 1
                if v.status_code == 200:
                    accepted.append(n)
        sent_in = time.perf_counter() - t0

    opsbot.drain()
    lost = [n for n in accepted
            if not opsbot.redis.exists(f"{PREFIX}incident:fp:{fingerprint('alertmanager', labels(n))}")]
    total_5xx = sum(n for c in statuses.values() for s, n in c.items() if s >= 500)
    print(f"hostile input: {args.hostile} hostile bodies (seed {args.seed}), a valid alert every {args.every}; "
          f"{sent_in:.1f} s")
    for name, counts in statuses.items():
        print(f"  {name:<13} {dict(sorted(counts.items()))}")
    print(f"  5xx           {total_5xx}" + (f"  {dict(kinds_5xx)}" if kinds_5xx else ""))
    print(f"  valid         {len(accepted)} answered 2xx, {len(lost)} lost (no incident after the drain)")


if __name__ == "__main__":
    main()
