"""/healthz and /readyz for the processes that have no HTTP server of their own (the Slack frontend in Socket
Mode, the Telegram frontend polling): what the kubelet's probes call. Alive: the process answers. Ready: Redis
(cards, approvals, memory) answers."""

from __future__ import annotations

import redis
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bot.http_input import error_body
from bot.intake.webhooks.server import ThreadedServer


def health_app(client: redis.Redis) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        try:
            client.ping()
        except (redis.RedisError, OSError):
            return JSONResponse(error_body("not_ready", "Redis is unreachable"), status_code=503)
        return JSONResponse({"status": "ready"})

    return app


def serve_health(client: redis.Redis, host: str, port: int) -> ThreadedServer:
    """The probes' endpoints on host:port, in a thread beside the frontend."""
    return ThreadedServer(health_app(client), host=host, port=port).start()
