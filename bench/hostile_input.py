"""Hostile input: generated hostile bodies, interleaved with valid deliveries, through the real webhooks and
the Slack frontend's HTTP endpoint.

    python bench/hostile_input.py                    # 5,000 hostile webhook bodies + 500 valid; 1,000 Slack
    python bench/hostile_input.py --hostile 20000 --slack 5000 --seed 7

opsbot's webhooks and triage workers run as `opsbot serve` runs them (a child process, a throwaway Redis with
an AOF). Hostile bodies (bench/hostile_payloads.py) go to the Alertmanager endpoint with its bearer token and
to the Sentry endpoint validly signed, so they reach the parser; every tenth request is a valid Alertmanager
alert of its own. Prints the status counts per endpoint, the 5xx, and how many valid deliveries answered 2xx
never became an incident (lost).

Slack (`serve-slack --http`, against the Slack Web API fake of tests/support): every request is validly signed,
so it reaches the payload check; half are the signed-but-unhandled shapes (SLACK_MUTATIONS: an action without
action_id, actions as an object, `payload=` …), half the generic mutations of a card's click or a mention.
Every tenth is a valid mention (`help`): lost when answered 2xx and never replied to.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote_from_bytes

import httpx
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.hostile_payloads import FORM, JSON, hostile_body, slack_click, slack_hostile, slack_mention  # noqa: E402
from bench.served import Served, served  # noqa: E402
from bot.intake.fingerprint import fingerprint  # noqa: E402
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode, sentry_headers, sentry_issue  # noqa: E402

PREFIX = "bench:hostile:"
SLACK_SECRET = "bench-slack-signing-secret"
TOKEN, SECRET, LIMIT = "bench-am-token", "bench-sentry-secret", 1_000_000


def labels(i: int) -> dict[str, str]:
    return {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"valid-{i}", "severity": "warning"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hostile", type=int, default=5_000)
    ap.add_argument("--every", type=int, default=10, help="one valid delivery after this many hostile ones")
    ap.add_argument("--slack", type=int, default=1_000, help="hostile Slack requests (0: none)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    webhooks = {"alertmanager_token": TOKEN, "sentry_client_secret": SECRET, "max_body_bytes": LIMIT}
    with served(PREFIX, 2, webhooks) as opsbot:
        if args.hostile:
            run(opsbot, args)
        if args.slack:
            run_slack(opsbot, args)


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
    report(f"hostile input: {args.hostile} hostile bodies (seed {args.seed}), a valid alert every {args.every}; "
           f"{sent_in:.1f} s", statuses, kinds_5xx,
           f"{len(accepted)} answered 2xx, {len(lost)} lost (no incident after the drain)")


def report(title: str, statuses: dict[str, Counter[int]], kinds_5xx: Counter[str], valid: str) -> None:
    total_5xx = sum(n for c in statuses.values() for s, n in c.items() if s >= 500)
    print(title)
    for name, counts in statuses.items():
        print(f"  {name:<13} {dict(sorted(counts.items()))}")
    print(f"  5xx           {total_5xx}" + (f"  {dict(kinds_5xx)}" if kinds_5xx else ""))
    print(f"  valid         {valid}")



def signed(body: bytes, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    mac = hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={mac}"}


def run_slack(opsbot: Served, args: argparse.Namespace) -> None:
    """`serve-slack --http` on the bench's Redis, against the Slack Web API fake: signed hostile requests."""
    from bot.chat.frontends.slack import SlackFrontend
    from bot.cli.chat import build_conversation, build_decisions
    from bot.intake.webhooks.server import ThreadedServer
    from bot.settings import Settings
    from tests.support.fake_slack import FakeSlack

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))  # errors only, as in the child
    rnd = random.Random(args.seed)
    fake = FakeSlack()
    statuses: dict[str, Counter[int]] = {"slack shapes": Counter(), "slack generic": Counter(),
                                         "slack valid": Counter()}
    kinds_5xx: Counter[str] = Counter()
    accepted = 0
    redis_url = opsbot.redis.connection_pool.connection_kwargs
    with ThreadedServer(fake.app()) as api:
        settings = Settings(redis={"url": f"redis://{redis_url['host']}:{redis_url['port']}/0",
                                   "key_prefix": f"{PREFIX}slack:"},
                            slack={"bot_token": fake.token, "signing_secret": SLACK_SECRET,
                                   "api_base_url": f"{api.url}/api/"})
        frontend = SlackFrontend(settings.slack, build_conversation(settings), build_decisions(settings))
        with ThreadedServer(frontend.http_app()) as server, httpx.Client(timeout=30) as client:
            url, t0 = f"{server.url}/slack/events", time.perf_counter()
            for i in range(args.slack):
                if i % 2 == 0:
                    group, (kind, content_type, body) = "slack shapes", slack_hostile(rnd)
                else:
                    group, content_type = "slack generic", rnd.choice([FORM, JSON])
                    valid = json.dumps(slack_click() if content_type == FORM else slack_mention()).encode()
                    kind, body = hostile_body(rnd, valid, LIMIT)
                    if content_type == FORM:
                        body = b"payload=" + quote_from_bytes(body).encode()
                reply = client.post(url, content=body, headers=signed(body, content_type))
                statuses[group][reply.status_code] += 1
                if reply.status_code >= 500:
                    kinds_5xx[f"{group}: {kind}"] += 1
                if i % args.every == args.every - 1:
                    n = i // args.every
                    body = json.dumps(slack_mention("help", f"1700000000.{n:06d}", f"EvBench{n:08d}")).encode()
                    v = client.post(url, content=body, headers=signed(body, JSON))
                    statuses["slack valid"][v.status_code] += 1
                    accepted += v.status_code == 200
            sent_in = time.perf_counter() - t0
            try:
                fake.wait_for("chat.postEphemeral", accepted, timeout=60)  # `help` is answered privately
            except AssertionError:
                pass
    lost = max(accepted - len(fake.made("chat.postEphemeral")), 0)
    report(f"slack: {args.slack} signed hostile requests (seed {args.seed}), a valid mention every {args.every}; "
           f"{sent_in:.1f} s", statuses, kinds_5xx, f"{accepted} answered 2xx, {lost} lost (never replied to)")


if __name__ == "__main__":
    main()
