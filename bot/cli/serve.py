"""`opsbot serve` (webhooks + triage workers) and `opsbot smoke` (one synthetic alert per intake, per hop)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import httpx
import redis
import typer

from bot.cards.model import Card
from bot.cards.poster import ConsolePoster, Poster
from bot.cards.store import CardStore
from bot.cli import common
from bot.cli.common import ConfigOpt
from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode, sentry_headers, sentry_issue
from bot.metrics import Metrics
from bot.polling import poll
from bot.settings import Settings
from bot.wiring import build_door, redis_client, redis_durability


def posters_for(settings: Settings) -> list[Poster]:
    """The console, and Slack and Telegram when they are configured."""
    from bot.chat.frontends.posters import chat_posters

    return [ConsolePoster(echo=typer.echo), *chat_posters(settings)]


def startup_warnings(settings: Settings) -> list[str]:
    """What `opsbot serve` warns about before it starts: a Redis that may lose or evict data, an open intake, an
    Alertmanager intake that would refuse every delivery."""
    try:
        warnings = [f"{problem} (docs/operations.md)" for problem in redis_durability(redis_client(settings))]
    except redis.RedisError as e:
        warnings = [f"Redis is not reachable yet ({type(e).__name__}); the webhooks answer 503 and the workers "
                    "retry until it is"]
    if settings.webhooks.alertmanager_token is None and settings.webhooks.alertmanager_open:
        warnings.append("the Alertmanager webhook accepts posts without a bearer token (webhooks.alertmanager_open); "
                        "set webhooks.alertmanager_token outside a sandbox")
    from bot.config.am_receivers import receiver_problems  # what `opsbot config check` says of the same settings
    from bot.config.check import intake_refusals

    return warnings + intake_refusals(settings) + receiver_problems(settings)


def serve_cmd(
    config: ConfigOpt = None,
    host: Annotated[str | None, typer.Option(help="listen address (default webhooks.host)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default webhooks.port)")] = None,
    workers: Annotated[int | None, typer.Option(help="triage worker threads (default intake.workers)")] = None,
    chat: Annotated[bool, typer.Option("--chat", help="also run the configured chat frontends in this process "
                                                      "(Telegram long polling, Slack Socket Mode): the whole "
                                                      "ChatOps loop in one process, for a small install")] = False,
) -> None:
    """Serve the Alertmanager and Sentry webhooks and run the triage workers that turn alerts into cards."""
    import uvicorn

    from bot.intake.pipeline import build_pipeline, knowledge_triage
    from knowledge.client import KnowledgeUnavailable

    settings = common.settings(config)
    for warning in startup_warnings(settings):
        typer.echo(f"opsbot: warning: {warning}", err=True)
    door = build_door(settings)
    try:
        triage, kt = knowledge_triage(settings, door, settings.redis.key_prefix, Metrics())
    except KnowledgeUnavailable as e:  # the knowledge store opens at start-up: a wrong chroma_url fails here
        common.fail(str(e))
    p = build_pipeline(settings, posters_for(settings), door=door, triage=triage, metrics=triage.metrics,
                       learn=kt.resolved)
    if chat:
        from bot.chat.frontends.together import frontends_lifespan
        from bot.cli.chat import build_conversation, build_decisions

        p.app.app.router.lifespan_context = frontends_lifespan(
            settings, build_conversation(settings, door), build_decisions(settings),
            lambda started: typer.echo(f"opsbot: {started}"))
    p.start_workers(workers)
    h, po = host or settings.webhooks.host, port or settings.webhooks.port
    typer.echo(f"opsbot: webhooks on http://{h}:{po}/webhooks/alertmanager and /webhooks/sentry; "
               f"{len(p.threads)} triage workers" + ("; chat frontends starting" if chat else ""))
    try:
        uvicorn.run(p.app, host=h, port=po, log_level="info", access_log=False)
    finally:
        p.stop_workers()


# -- smoke ----------------------------------------------------------------------------------------------


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


def smoke_cmd(
    config: ConfigOpt = None,
    url: Annotated[str | None, typer.Option(help="the running opsbot (default http://webhooks.host:port)")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each card")] = 30.0,
) -> None:
    """Send a synthetic alert through each configured intake and report, per hop, whether the card was made."""
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

    typer.echo("alertmanager:")
    labels = {"alertname": "OpsbotSmokeTest", "severity": "info", "opsbot_smoke": run}
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

    secret = settings.webhooks.sentry_client_secret
    if secret is None:
        typer.echo("sentry: skipped (webhooks.sentry_client_secret is not set)")
    else:
        typer.echo("sentry:")
        issue = f"opsbot-smoke-{run}"
        body = encode(sentry_issue(issue, f"opsbot smoke test {run}", level="info", project="opsbot-smoke"))
        fp = fingerprint("sentry", {"sentry_issue": issue})
        if _post(hops, "signed delivery accepted", f"{base}/webhooks/sentry", body,
                 sentry_headers(secret.get_secret_value(), body)):
            card = poll(_card_for(incidents, cards, fp, "firing"), timeout)
            hops.report("card produced", card is not None,
                        f"incident {card.incident_id}" if card else f"no card within {timeout:.0f}s")
            done = encode(sentry_issue(issue, f"opsbot smoke test {run}", level="info", action="resolved",
                                       project="opsbot-smoke"))
            _post(hops, "resolution accepted", f"{base}/webhooks/sentry", done,
                  sentry_headers(secret.get_secret_value(), done))
    if hops.broken:
        typer.echo(f"opsbot smoke: {hops.broken} hop(s) broken", err=True)
        raise typer.Exit(1)
    typer.echo("opsbot smoke: every hop works")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
    app.command("smoke")(smoke_cmd)
