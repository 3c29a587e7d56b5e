"""The webhook app: /webhooks/alertmanager, /webhooks/sentry, /healthz, /readyz, /metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.http_input import WebhookError, error_body
from bot.intake.stream import Intake
from bot.intake.webhooks import alertmanager, errors, sentry
from bot.metrics import Metrics
from bot.settings import Settings
from bot.wiring import async_redis_client
from policies.engine import PolicyEngine
from policies.schema import load_policy

log = structlog.get_logger(__name__)


@dataclass
class Deps:
    settings: Settings
    intake: Intake
    engine: PolicyEngine
    metrics: Metrics
    now: Callable[[], datetime]


def create_app(settings: Settings, *, prefix: str | None = None, metrics: Metrics | None = None,
               engine: PolicyEngine | None = None, intake: Intake | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> IntakeApp:
    """`prefix` isolates Redis keys (tests, benches); `metrics` is shared with the workers of the process."""
    prefix = prefix or settings.redis.key_prefix
    deps = Deps(settings=settings,
                intake=intake or Intake(async_redis_client(settings), prefix, settings.intake.stream_maxlen,
                                        settings.redis.wait_replicas, settings.redis.wait_timeout_s),
                engine=engine or PolicyEngine(load_policy(settings.policy_file)),
                metrics=metrics or Metrics(), now=now)
    app = FastAPI(title="opsbot webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.opsbot = deps

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        problem = await deps.intake.ready()
        if problem:
            return JSONResponse(error_body("not_ready", problem), status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return IntakeApp(app, deps)


# POST /webhooks/<source>: each handler takes the dependencies and the request, and answers a JSON body (200)
# or a response of its own; a refusal is a WebhookError
WEBHOOKS: dict[str, Callable[[Deps, Request], Awaitable[dict[str, Any] | Response]]] = {
    "alertmanager": alertmanager.receive, "sentry": sentry.receive}


class IntakeApp:
    """The webhook server as one pure ASGI app. POST /webhooks/<source> goes straight to its handler: FastAPI's
    routing, dependency solving and middleware cost about 100 µs a request, as much as the rest of the hot path
    (bench/intake_ratio.py). Every webhook answer is measured (latency, rejections), under one label for any
    path that is no webhook, so /metrics cannot be grown from outside. Everything else (/healthz, /readyz,
    /metrics, the lifespan) is FastAPI's."""

    def __init__(self, app: FastAPI, deps: Deps):
        self.app, self.deps = app, deps
        latency, received = deps.metrics.webhook_latency, deps.metrics.alerts_received
        self._latency = {source: latency.labels(source) for source in (*WEBHOOKS, "unknown")}
        self._rejected = {source: received.labels(source, "rejected") for source in (*WEBHOOKS, "unknown")}

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.state

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        source = path[len("/webhooks/"):]
        if source not in WEBHOOKS:
            source = "unknown"
        response = await self._answer(source, scope, receive)
        try:
            await response(scope, receive, send)
        finally:
            self._latency[source].observe(time.perf_counter() - started)
            if 400 <= response.status_code < 500:
                self._rejected[source].inc()

    async def _answer(self, source: str, scope, receive) -> Response:  # type: ignore[no-untyped-def]
        if source == "unknown":
            return errors.response(WebhookError(404, "not_found", "no webhook here: POST to /webhooks/alertmanager "
                                                "or /webhooks/sentry"))
        if scope["method"] != "POST":
            return errors.response(WebhookError(405, "method_not_allowed", "webhooks are delivered with POST",
                                                headers={"Allow": "POST"}))
        try:
            answer = await WEBHOOKS[source](self.deps, Request(scope, receive))
        except WebhookError as e:
            return errors.response(e)
        except Exception:
            log.exception("webhook_failed", source=source)
            return errors.response(WebhookError(500, "internal_error", "the delivery hit an internal error; retry "
                                                "it (one already stored is recognised as a replay)"))
        return answer if isinstance(answer, Response) else JSONResponse(answer)
