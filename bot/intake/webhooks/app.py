"""The webhook app: /webhooks/alertmanager, /webhooks/sentry, /healthz, /readyz, /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.http_input import WebhookError, error_body
from bot.intake.stream import Intake
from bot.intake.webhooks import alertmanager, errors, sentry
from bot.metrics import Metrics
from bot.settings import Settings
from bot.wiring import async_redis_client
from policies.engine import PolicyEngine
from policies.schema import load_policy


@dataclass
class Deps:
    settings: Settings
    intake: Intake
    engine: PolicyEngine
    metrics: Metrics
    now: Callable[[], datetime]


def create_app(settings: Settings, *, prefix: str | None = None, metrics: Metrics | None = None,
               engine: PolicyEngine | None = None, intake: Intake | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> MeasuredApp:
    """`prefix` isolates Redis keys (tests, benches); `metrics` is shared with the workers of the process."""
    prefix = prefix or settings.redis.key_prefix
    deps = Deps(settings=settings,
                intake=intake or Intake(async_redis_client(settings), prefix, settings.intake.stream_maxlen,
                                        settings.redis.wait_replicas, settings.redis.wait_timeout_s),
                engine=engine or PolicyEngine(load_policy(settings.policy_file)),
                metrics=metrics or Metrics(), now=now)
    app = FastAPI(title="opsbot webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.opsbot = deps
    app.add_exception_handler(WebhookError, errors.handle)
    app.include_router(alertmanager.router)
    app.include_router(sentry.router)

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

    return MeasuredApp(app, deps.metrics)


SOURCES = frozenset({"alertmanager", "sentry"})


class MeasuredApp:
    """Pure ASGI wrapper (BaseHTTPMiddleware costs milliseconds per request): webhook latency and rejections."""

    def __init__(self, app: FastAPI, metrics: Metrics):
        self.app, self.metrics = app, metrics

    @property
    def state(self):  # type: ignore[no-untyped-def]
        return self.app.state

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        source = path.rsplit("/", 1)[-1]
        if source not in SOURCES:
            source = "unknown"  # one label for every other path, so /metrics cannot be grown from outside
        started = time.perf_counter()
        status = 500

        async def record(message):  # type: ignore[no-untyped-def]
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            self.metrics.webhook_latency.labels(source).observe(time.perf_counter() - started)
            if 400 <= status < 500:
                self.metrics.alerts_received.labels(source, "rejected").inc()
