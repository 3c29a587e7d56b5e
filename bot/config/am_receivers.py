"""Whether the configured Alertmanager's own webhooks can reach this intake: read from its configuration
(`/api/v2/status`), a receiver that posts to `/webhooks/alertmanager` without the bearer token opsbot requires
is refused (401) every time, and an Alertmanager with no such receiver sends opsbot nothing. Best effort: an
Alertmanager that does not answer, or masks its receivers' URLs, says nothing here (the reachability check
names it).
"""

from __future__ import annotations

from typing import Any

import httpx
import yaml

from bot import messages
from bot.settings import Settings

INTAKE_PATH = "/webhooks/alertmanager"


def _webhooks(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for r in config.get("receivers") or [] for w in r.get("webhook_configs") or [] if isinstance(w, dict)]


def _sends_bearer(webhook: dict[str, Any]) -> bool:
    http = webhook.get("http_config") or {}
    auth = http.get("authorization") or {}
    scheme = str(auth.get("type") or "Bearer").lower()
    has_auth = bool(auth.get("credentials") or auth.get("credentials_file")) and scheme == "bearer"
    return has_auth or bool(http.get("bearer_token") or http.get("bearer_token_file"))


def receiver_problems(s: Settings) -> list[str]:
    """What in the Alertmanager's configuration keeps its alerts from this intake, in sentences."""
    try:
        r = httpx.get(f"{s.alertmanager.url.rstrip('/')}/api/v2/status", timeout=s.alertmanager.timeout_s)
        r.raise_for_status()
        config = yaml.safe_load(r.json()["config"]["original"]) or {}
    except Exception:  # not answering is the reachability check's finding, not this one's
        return []
    webhooks = _webhooks(config)
    urls = [str(w.get("url") or "") for w in webhooks]
    if any(u.startswith("<secret>") or not u for u in urls):
        return []  # a masked URL could be ours: nothing can be said
    ours = [w for w in webhooks if str(w["url"]).rstrip("/").endswith(INTAKE_PATH)]
    if not ours:
        return [messages.AM_NO_RECEIVER.format(url=s.alertmanager.url, path=INTAKE_PATH)]
    if s.webhooks.alertmanager_token is None:
        return []
    return [messages.AM_NO_TOKEN_SENT.format(url=s.alertmanager.url, to=w["url"]) for w in ours
            if not _sends_bearer(w)]
