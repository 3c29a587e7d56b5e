"""Helpers for the alert-intake tests: a pipeline on an isolated Redis prefix, served on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import httpx

from bot.cards.model import EvidenceLine
from bot.cards.poster import ConsolePoster
from bot.guard.door import Door
from bot.intake.alert import Alert
from bot.intake.pipeline import Pipeline, build_pipeline
from bot.intake.webhooks.server import ThreadedServer
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
from bot.polling import poll
from bot.settings import Settings
from bot.triage.evidence import Evidence
from bot.triage.triage import Triage
from tests.support.doors import make_door

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds saying what was awaited."""
    value = poll(probe, timeout, 0.05)
    if not value:
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
    return value


def label_evidence(alert: Alert, incident: str | None) -> Evidence:
    """An evidence provider that needs no backend: one line naming the alert."""
    return Evidence(lines=[EvidenceLine(check="labels", text=f"{alert.name} {alert.labels}")])


def storm_labels(i: int) -> dict[str, str]:
    """The labels of the i-th alert of a storm: one fingerprint each."""
    return {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": f"storm-{i}", "severity": "warning"}


def post_storm(url: str, i: int) -> int:
    """Post the i-th alert of a storm as Alertmanager does; the status, or 0 when nothing answered."""
    body = am_payload([am_alert(storm_labels(i))])
    try:
        return httpx.post(f"{url}/webhooks/alertmanager", content=encode(body), timeout=5).status_code
    except httpx.HTTPError:
        return 0  # not answered: Alertmanager would retry; it was not accepted


def quiet_settings(settings: Settings, **webhooks: object) -> Settings:
    return settings.model_copy(update={
        "webhooks": settings.webhooks.model_copy(update=webhooks),
        "intake": settings.intake.model_copy(update={"reclaim_idle_s": 0}),
    })


def pipeline(settings: Settings, poster: ConsolePoster, door: Door | None = None,
             collect: Callable[[Alert, str | None], Evidence] | None = label_evidence, **triage: object) -> Pipeline:
    door = door or make_door(settings)
    prefix = f"test:{uuid.uuid4().hex}:"
    t = Triage(door, collect=collect, **triage)  # type: ignore[arg-type]
    return build_pipeline(settings, [poster], prefix=prefix, door=door, triage=t)


@contextmanager
def serving(p: Pipeline, workers: int = 0) -> Iterator[ThreadedServer]:
    server = ThreadedServer(p.app).start()
    if workers:
        p.start_workers(workers, warm=False)
    try:
        yield server
    finally:
        p.stop_workers()
        server.stop()
