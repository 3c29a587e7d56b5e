"""Shared pieces of the frontend tests: the conversation on a private cluster, fakes served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.guard.door import Caller, Door
from bot.intake.webhooks.server import ThreadedServer
from bot.settings import Settings
from tests.support.doors import Clock, door_with_clock


def conversation(settings: Settings, clock: Clock) -> Conversation:
    door = door_with_clock(settings, clock)
    return Conversation(door, Agent(settings, door), namespaces=["payments", "shop"])


def replicas(door: Door, namespace: str = "shop", name: str = "checkout") -> int:
    r = door.run("k8s_describe", {"namespace": namespace, "kind": "Deployment", "name": name},
                 Caller(identity="test", via="cli"))
    return int(r.data["replicas"]["desired"])


def executions(door: Door) -> list[str]:
    return [r.status for r in door.audit.query() if r.kind == "execution"]


@contextmanager
def served(app) -> Iterator[ThreadedServer]:  # type: ignore[no-untyped-def]
    with ThreadedServer(app) as server:
        yield server
