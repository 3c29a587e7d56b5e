"""The probe endpoints of the frontends (`--health-port`): alive while the process runs, ready only while
Redis answers."""

from __future__ import annotations

import httpx
import redis

from bot.chat.frontends.health import serve_health
from bot.settings import Settings
from bot.wiring import redis_client


def test_ready_follows_redis_and_alive_does_not(settings: Settings) -> None:
    up = serve_health(redis_client(settings), "127.0.0.1", 0)
    down = serve_health(redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5), "127.0.0.1", 0)
    try:
        assert httpx.get(f"{up.url}/healthz").status_code == 200
        assert httpx.get(f"{up.url}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"{down.url}/healthz").status_code == 200
        r = httpx.get(f"{down.url}/readyz")
        assert r.status_code == 503 and r.json()["message"] == "Redis is unreachable"
    finally:
        up.stop()
        down.stop()
