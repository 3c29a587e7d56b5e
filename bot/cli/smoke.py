"""`opsbot smoke`: a synthetic alert per intake, per hop: straight to each webhook (card made, card edited), and
through Alertmanager's API to opsbot's webhook (delivered, or why not); each hop reported as it went."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import redis
import typer
import yaml

from bot.cards.model import Card
from bot.cards.store import CardStore
from bot.cli import common
from bot.cli.common import ConfigOpt
from bot.config.am_receivers import INTAKE_PATH, receiver_problems
from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.stream import AlertStream
from bot.intake.webhooks.synthetic import (
    SMOKE_LABEL,
    SMOKE_PROJECT,
    am_alert,
    am_payload,
    encode,
    iso,
    sentry_headers,
    sentry_issue,
    smoke_labels,
)
from bot.polling import poll
from bot.settings import Settings
from bot.wiring import redis_client
from policies import durations

RECENT = 1000  # stream entries (deliveries) looked through for the alert Alertmanager delivered: newest first


class Hops:
    def __init__(self) -> None:
        self.broken = 0

    def report(self, name: str, ok: bool, detail: str) -> bool:
        typer.echo(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}")
        self.broken += 0 if ok else 1
        return ok


def _card_for(incidents: IncidentStore, cards: CardStore, fp: str, status: str) -> Callable[[], Card | None]:
    def probe() -> Card | None:
        incident = incidents.by_fingerprint(fp)
        card = cards.get(incident.id) if incident else None
        return card if card and card.status == status else None
    return probe


def _post(hops: Hops, name: str, url: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=10)
    except httpx.HTTPError as e:
        return hops.report(name, False, f"could not reach {url}: {type(e).__name__}: {e}")
    return hops.report(name, r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}")


# -- the Alertmanager → opsbot hop ------------------------------------------------------------------------


def _received(client: redis.Redis, prefix: str, fp: str) -> Callable[[], bool | None]:
    """Whether opsbot's webhook stored an alert with this fingerprint (its Redis Stream: before any worker)."""
    stream = AlertStream(client, prefix)

    def probe() -> bool | None:
        return any(r.alert is not None and r.alert.fingerprint == fp for r in stream.latest(RECENT)) or None
    return probe


def _webhooks(receiver: dict[str, Any]) -> list[str]:
    return [w.get("url") or f"(url_file {w.get('url_file')})" for w in receiver.get("webhook_configs") or []]


def _am_config(settings: Settings) -> dict[str, Any] | None:
    """Alertmanager's configuration as it runs (its /api/v2/status), or None when it cannot be read."""
    try:
        r = httpx.get(f"{settings.alertmanager.url.rstrip('/')}/api/v2/status", timeout=settings.alertmanager.timeout_s)
        config = yaml.safe_load(r.json()["config"]["original"])
    except (httpx.HTTPError, ValueError, KeyError, TypeError, yaml.YAMLError):
        return None
    return config if isinstance(config, dict) else None


def group_wait_s(config: dict[str, Any] | None) -> float:
    """How long Alertmanager holds a new group before its first notification (the root route's group_wait;
    Alertmanager's default 30s when unset; 0 when its configuration could not be read)."""
    if config is None:
        return 0.0
    try:
        return durations.parse_duration(str((config.get("route") or {}).get("group_wait", "30s"))).total_seconds()
    except durations.DurationError:  # a compound duration such as 1m30s: not waited for
        return 0.0


def why_not_delivered(settings: Settings, labels: dict[str, str], intake: str) -> str:
    """What Alertmanager says about the alert it did not deliver: suppressed, or the receivers its routing chose
    and where they post (smoke observes delivery; this only narrows down why there was none)."""
    am, config = settings.alertmanager.url.rstrip("/"), _am_config(settings)
    try:
        listed = httpx.get(f"{am}/api/v2/alerts", params={"filter": f'{SMOKE_LABEL}="{labels[SMOKE_LABEL]}"'},
                           timeout=settings.alertmanager.timeout_s).json()
    except (httpx.HTTPError, ValueError) as e:
        return f"Alertmanager's routing could not be read ({type(e).__name__})"
    if not listed:
        return "Alertmanager no longer lists the alert"
    status, names = listed[0]["status"], [r["name"] for r in listed[0].get("receivers", [])]
    if status.get("state") == "suppressed":
        return (f"Alertmanager suppressed it (silenced by {status.get('silencedBy') or '-'}, inhibited by "
                f"{status.get('inhibitedBy') or '-'})")
    receivers = {r.get("name"): r for r in (config or {}).get("receivers") or []}
    urls = [u for n in names for u in _webhooks(receivers.get(n, {}))]
    if not urls:
        return (f"Alertmanager's routing sends alerts labelled {SMOKE_LABEL} to {names or 'no receiver'}, which "
                f"has no webhook: it would not deliver them to opsbot")
    ours = [u for u in urls if u.rstrip("/").endswith(INTAKE_PATH)]
    if not ours:
        return (f"Alertmanager's routing sends alerts labelled {SMOKE_LABEL} to {names}, posting to "
                f"{', '.join(urls)}, none of them an opsbot intake ({INTAKE_PATH}): it would not deliver them to "
                f"opsbot")
    if intake not in ours:
        return (f"Alertmanager's routing sends alerts labelled {SMOKE_LABEL} to {names}, posting to "
                f"{', '.join(ours)}, not to {intake}: unless that is this opsbot under another address, it "
                f"delivers them elsewhere")
    known = receiver_problems(settings)  # what `opsbot config check` says of it: a bearer token not sent
    return (f"Alertmanager routes it to {names}, posting to {intake}: " + ("; ".join(known) or
            "its log says why the notification failed, or its group_wait is longer than --timeout"))


def alertmanager_hop(hops: Hops, settings: Settings, client: redis.Redis, base: str, run: str,
                     timeout: float) -> None:
    """Post a synthetic alert to Alertmanager's API, wait until opsbot's webhook stored it, then resolve it."""
    if "url" not in settings.alertmanager.model_fields_set:
        typer.echo("alertmanager → opsbot: skipped: no alertmanager.url configured")
        return
    am, intake = settings.alertmanager.url.rstrip("/"), f"{base}{INTAKE_PATH}"
    typer.echo(f"alertmanager → opsbot (through {am}):")
    labels = smoke_labels(run, "alertmanager")
    alert = {"labels": labels, "annotations": {"summary": f"opsbot smoke test {run} through Alertmanager"},
             "startsAt": iso(datetime.now(UTC))}
    json_headers = {"Content-Type": "application/json"}
    if not _post(hops, "Alertmanager accepted the alert", f"{am}/api/v2/alerts", encode([alert]), json_headers):
        return
    started, held = time.monotonic(), group_wait_s(_am_config(settings))
    try:
        got = poll(_received(client, settings.redis.key_prefix, fingerprint("alertmanager", labels)), timeout + held)
        hops.report("Alertmanager delivered it to opsbot's webhook", bool(got),
                    f"stored {time.monotonic() - started:.1f}s after the post" if got else
                    f"not received within {timeout + held:.0f}s (--timeout and Alertmanager's group_wait "
                    f"{held:.0f}s): {why_not_delivered(settings, labels, intake)}")
    finally:  # never left firing
        _post(hops, "resolved in Alertmanager", f"{am}/api/v2/alerts",
              encode([{**alert, "endsAt": iso(datetime.now(UTC))}]), json_headers)


# -- the command ------------------------------------------------------------------------------------------


def smoke_cmd(
    config: ConfigOpt = None,
    url: Annotated[str | None, typer.Option(help="the running opsbot (default http://webhooks.host:port)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each card or delivery")] = 30.0,
) -> None:
    """Send a synthetic alert through each configured intake and report each hop: straight to the webhooks (the
    card made and edited), and through Alertmanager (delivered to opsbot). Its incidents are never learned."""
    settings = common.settings(config)
    base = (url or f"http://{settings.webhooks.host}:{settings.webhooks.port}").rstrip("/")
    client, prefix = redis_client(settings), settings.redis.key_prefix
    incidents = IncidentStore(client, prefix, settings.webhooks.dedup_window_s, settings.webhooks.flap_threshold)
    cards = CardStore(client, prefix)
    hops = Hops()
    run = uuid.uuid4().hex[:8]
    typer.echo(f"opsbot smoke {run} against {base}")
    try:
        ready = httpx.get(f"{base}/readyz", timeout=5)
        hops.report("webhook app ready (Redis reachable)", ready.status_code == 200, ready.text[:200])
    except httpx.HTTPError as e:
        hops.report("webhook app ready", False, f"could not reach {base}: {type(e).__name__}: {e}")
        raise typer.Exit(1) from None

    typer.echo("alertmanager webhook (posted straight to opsbot):")
    labels = smoke_labels(run, "webhook")
    token = settings.webhooks.alertmanager_token
    headers = {"Content-Type": "application/json",
               **({"Authorization": f"Bearer {token.get_secret_value()}"} if token else {})}
    started = datetime.now(UTC)
    fired = am_payload([am_alert(labels, {"summary": f"opsbot smoke test {run}"}, starts_at=started)])
    fp = fingerprint("alertmanager", labels)
    if _post(hops, "webhook accepted the firing alert", f"{base}/webhooks/alertmanager", encode(fired), headers):
        card = poll(_card_for(incidents, cards, fp, "firing"), timeout)
        if hops.report("card produced", card is not None,
                       f"incident {card.incident_id}" if card else f"no card within {timeout:.0f}s"):
            done = am_payload([am_alert(labels, status="resolved", starts_at=started, ends_at=datetime.now(UTC))])
            if _post(hops, "webhook accepted the resolution", f"{base}/webhooks/alertmanager", encode(done), headers):
                edited = poll(_card_for(incidents, cards, fp, "resolved"), timeout)
                hops.report("card edited on resolution", edited is not None,
                            "same incident, status resolved" if edited else f"not resolved within {timeout:.0f}s")

    alertmanager_hop(hops, settings, client, base, run, timeout)

    secret = settings.webhooks.sentry_client_secret
    if secret is None:
        typer.echo("sentry: skipped (webhooks.sentry_client_secret is not set)")
    else:
        typer.echo("sentry:")
        issue = f"{SMOKE_PROJECT}-{run}"
        body = encode(sentry_issue(issue, f"opsbot smoke test {run}", level="info", project=SMOKE_PROJECT))
        fp = fingerprint("sentry", {"sentry_issue": issue})
        if _post(hops, "signed delivery accepted", f"{base}/webhooks/sentry", body,
                 sentry_headers(secret.get_secret_value(), body)):
            card = poll(_card_for(incidents, cards, fp, "firing"), timeout)
            hops.report("card produced", card is not None,
                        f"incident {card.incident_id}" if card else f"no card within {timeout:.0f}s")
            done = encode(sentry_issue(issue, f"opsbot smoke test {run}", level="info", action="resolved",
                                       project=SMOKE_PROJECT))
            _post(hops, "resolution accepted", f"{base}/webhooks/sentry", done,
                  sentry_headers(secret.get_secret_value(), done))
    if hops.broken:
        typer.echo(f"opsbot smoke: {hops.broken} hop(s) broken", err=True)
        raise typer.Exit(1)
    typer.echo("opsbot smoke: every hop works" if "url" in settings.alertmanager.model_fields_set else
               "opsbot smoke: every hop tried works (the Alertmanager → opsbot hop was skipped)")
