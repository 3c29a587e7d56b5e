"""Redaction cost: microseconds per log line for plain lines and for lines carrying a secret, and per result;
and how many of the near-misses (ordinary lines that look like secrets) the masking changed.

    python bench/redaction.py            # 20,000 lines of each kind

Every tool result passes bot.redact at the door, so this is the price of redacting at the source. Times are
this process's CPU time, so other work on a shared machine does not count against it.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.secrets_corpus import CORPUS, NEAR_MISSES  # noqa: E402
from bot.redact import redact, redact_data  # noqa: E402

PLAIN = [
    "INFO checkout request handled path=/api/cart status=200 duration_ms=12",
    "WARN retrying payment provider call attempt=2 backoff_ms=400",
    "ERROR failed to reach db.shop:5432: connection refused",
    "DEBUG cache hit key=cart:8812 ttl=300",
    "INFO GET /healthz 200 1ms",
    'level=info msg="reconciled" namespace=shop deployment=checkout replicas=3',
]


def per_line(lines: list[str]) -> float:
    started = time.process_time()
    for line in lines:
        redact(line)
    return (time.process_time() - started) / len(lines) * 1e6


def main(n: int = 20_000) -> None:
    rnd = random.Random(1)
    plain = [rnd.choice(PLAIN) for _ in range(n)]
    secret = [rnd.choice(CORPUS)[1] for _ in range(n)]
    result = {"pod": "checkout-7d9f", "lines": [rnd.choice(PLAIN + [c[1] for c in CORPUS[:10]]) for _ in range(200)]}
    started = time.process_time()
    for _ in range(200):
        redact_data(result)
    per_result = (time.process_time() - started) / 200 * 1e3
    changed = [line for line in NEAR_MISSES if redact(line) != line]
    print(f"redaction: {n} lines of each kind, {len(CORPUS)} secret shapes")
    print(f"  plain line        {per_line(plain):6.1f} µs")
    print(f"  line with secret  {per_line(secret):6.1f} µs")
    print(f"  a 200-line result {per_result:6.2f} ms (redact_data, as the door runs it)")
    print(f"  near-misses changed {len(changed)} of {len(NEAR_MISSES)}" + "".join(f"\n    {c}" for c in changed))


if __name__ == "__main__":
    main()
