"""The alert pipeline of a run on the sandbox (the demo, an eval scenario): built with knowledge triage under a
run-private Redis prefix, its webhooks served on loopback, its workers started, and all of it stopped after."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from bot.cards.poster import ConsolePoster
from bot.guard.door import Door
from bot.intake.pipeline import Pipeline, build_pipeline, knowledge_triage
from bot.metrics import Metrics
from bot.polling import poll
from bot.settings import Settings
from bot.wiring import build_door
from sandbox import procs


@dataclass
class Served:
    pipeline: Pipeline
    door: Door
    console: ConsolePoster
    port: int


@contextmanager
def served(settings: Settings, console: ConsolePoster, run: str, workers: int, learn: bool,
           port: int) -> Iterator[Served]:
    """Webhooks on 127.0.0.1:`port` (where Alertmanager posts: Sandbox.run_port). `learn`: resolved incidents
    are written to knowledge and outcomes are shared across runs (the demo); otherwise every key is the run's
    own (an eval scenario)."""
    prefix = f"{settings.redis.key_prefix}{run}-{uuid.uuid4().hex[:6]}:"
    door, metrics = build_door(settings, prefix=prefix), Metrics()
    triage, learned = knowledge_triage(settings, door, settings.redis.key_prefix if learn else prefix, metrics)
    p = build_pipeline(settings, [console], prefix=prefix, door=door, triage=triage, metrics=metrics,
                       learn=learned.resolved if learn else None, outcomes=learned.outcomes if learn else None)
    server = uvicorn.Server(uvicorn.Config(p.app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    threading.Thread(target=server.run, name=f"{run}-webhooks", daemon=True).start()
    try:
        if not poll(lambda: server.started, 20, interval_s=0.1):
            raise procs.SandboxError(f"the {run} webhook server on port {port} did not start within 20s")
        p.start_workers(workers)
        yield Served(p, door, console, port)
    finally:
        p.stop_workers()
        server.should_exit = True
