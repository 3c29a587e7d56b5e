"""Publishing under races: one publish per incident at a time, versions that only grow, and a card built from
an older state (a resolution triaged before a click landed) never undoes the decision on any platform."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bot.cards.model import Card, CardAction
from bot.cards.poster import ConsolePoster, Publisher
from bot.cards.store import CardStore
from bot.settings import Settings
from bot.wiring import redis_client


def card(status: str = "firing", action: str = "pending") -> Card:
    return Card(incident_id="inc-race", title="KubePodCrashLooping: checkout", severity="P1", status=status,
                source="alertmanager", failing="checkout crash-loops",
                actions=[CardAction(tool="k8s_rollback", summary="roll back shop/checkout", action_id="a1",
                                    status=action)], updated_at=datetime.now(UTC))


def test_a_stale_card_never_undoes_a_decision(settings: Settings) -> None:
    store = CardStore(redis_client(settings), f"test:{uuid.uuid4().hex}:")
    poster = ConsolePoster()
    publisher = Publisher(store, [poster])
    publisher.publish(card())
    stale = card(status="resolved")  # built by the worker from the card before the click
    publisher.publish(card(action="executed"))  # the click's edit lands first
    publisher.publish(stale)
    final = store.get("inc-race")
    assert final is not None and final.status == "resolved" and final.actions[0].status == "executed"
    assert poster.updates()[-1].card.actions[0].status == "executed" and final.version == 3


def test_concurrent_publishes_end_in_the_latest_version_everywhere(settings: Settings) -> None:
    store = CardStore(redis_client(settings), f"test:{uuid.uuid4().hex}:")
    poster = ConsolePoster()
    publisher = Publisher(store, [poster])
    publisher.publish(card())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: publisher.publish(card(action="executed" if i == 5 else "pending")), range(16)))
    final = store.get("inc-race")
    assert final is not None and final.version == 17 and final.actions[0].status == "executed"
    last = poster.updates()[-1].card
    assert last.version == 17 and last.actions[0].status == "executed", "the last edit shows the final state"
