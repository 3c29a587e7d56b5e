"""A private, real Alertmanager for a test (the sandbox's configuration: grouped by alertname and namespace,
1 s group wait), alerts pushed into it through its API v2, and its notifications pointed at opsbot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.intake.webhooks.synthetic import iso
from sandbox import procs, prom


@dataclass
class PrivateAlertmanager:
    state: Path
    url: str

    def notify(self, webhook_url: str) -> None:
        """Send this Alertmanager's notifications to `webhook_url` (its configuration, reloaded)."""
        prom.post_alerts_to(self.state, webhook_url, int(self.url.rsplit(":", 1)[1]))

    def fire(self, *labels: dict[str, str], ended: bool = False) -> None:
        """Push alerts in, started ten minutes ago; `ended`: resolved now."""
        now = datetime.now(UTC)
        alerts = [{"labels": lb, "annotations": {"summary": f"{lb.get('pod', lb['alertname'])} is not ready"},
                   "startsAt": iso(now - timedelta(minutes=10)), **({"endsAt": iso(now)} if ended else {})}
                  for lb in labels]
        assert httpx.post(f"{self.url}/api/v2/alerts", json=alerts).status_code == 200

    def status(self, **label: str) -> dict:
        """The status Alertmanager gives the (first) alert with this label: state, silencedBy …"""
        [(k, v)] = label.items()
        alerts = httpx.get(f"{self.url}/api/v2/alerts", params={"filter": f'{k}="{v}"'}).json()
        return alerts[0]["status"] if alerts else {}

    def active_silences(self) -> list[dict]:
        return [s for s in httpx.get(f"{self.url}/api/v2/silences").json() if s["status"]["state"] == "active"]


@contextmanager
def private_alertmanager(state: Path) -> Iterator[PrivateAlertmanager]:
    port = procs.free_port()
    prom.write_alertmanager_config(state)
    prom.start_alertmanager(state, port)
    try:
        yield PrivateAlertmanager(state, f"http://127.0.0.1:{port}")
    finally:
        procs.stop("alertmanager", state)
