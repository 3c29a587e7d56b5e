"""Cards in Redis: the latest card per incident, its graph, and the posted message per incident and platform; and
the chat messages that show one pending action's card (proposed in a conversation), to edit when it expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
from pydantic import BaseModel

from bot.cards.model import Card


class MessageRef(BaseModel):
    """Where a card was posted: enough for the platform's edit call (Slack channel+ts, Telegram chat+id)."""

    platform: str
    message_id: str
    channel: str | None = None


class CardStore:
    def __init__(self, client: redis.Redis, prefix: str, keep: timedelta = timedelta(days=30)):
        self.client, self.prefix, self.keep = client, prefix, keep

    def _card(self, incident_id: str) -> str:
        return f"{self.prefix}card:{incident_id}"

    def _refs(self, incident_id: str) -> str:
        return f"{self.prefix}card:{incident_id}:messages"

    def _graph(self, incident_id: str) -> str:
        return f"{self.prefix}card:{incident_id}:graph"

    def _threads(self, incident_id: str) -> str:
        return f"{self.prefix}card:{incident_id}:threads"

    def thread_digest(self, incident_id: str, platform: str) -> str | None:
        """What the thread last posted under the card on `platform` held (a digest), None if none was posted."""
        raw = self.client.hget(self._threads(incident_id), platform)
        return raw.decode() if raw else None

    def set_thread_digest(self, incident_id: str, platform: str, digest: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._threads(incident_id), platform, digest)
        pipe.expire(self._threads(incident_id), self.keep)
        pipe.execute()

    def lock(self, incident_id: str) -> Any:
        """One publisher at a time per incident, across processes (held at most 30 s)."""
        return self.client.lock(f"{self.prefix}card:{incident_id}:lock", timeout=30, blocking_timeout=30)

    def save(self, card: Card) -> None:
        self.client.set(self._card(card.incident_id), card.model_dump_json(), ex=self.keep)

    def get(self, incident_id: str) -> Card | None:
        raw = self.client.get(self._card(incident_id))
        return Card.model_validate_json(raw) if raw else None

    def save_graph(self, incident_id: str, png: bytes) -> None:
        """The card's graph (a PNG, kept beside the card, not in it), posted under the card's first post."""
        self.client.set(self._graph(incident_id), png, ex=self.keep)

    def graph(self, incident_id: str) -> bytes | None:
        raw = self.client.get(self._graph(incident_id))
        return bytes(raw) if raw else None

    def ref(self, incident_id: str, platform: str) -> MessageRef | None:
        raw = self.client.hget(self._refs(incident_id), platform)
        return MessageRef.model_validate_json(raw) if raw else None

    def refs(self, incident_id: str) -> dict[str, MessageRef]:
        return {k.decode(): MessageRef.model_validate_json(v)
                for k, v in self.client.hgetall(self._refs(incident_id)).items()}

    def set_ref(self, incident_id: str, ref: MessageRef) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._refs(incident_id), ref.platform, ref.model_dump_json())
        pipe.expire(self._refs(incident_id), self.keep)
        pipe.set(self._posted(ref.platform, ref.channel, ref.message_id), incident_id, ex=self.keep)
        pipe.execute()

    def _shown(self, action_id: str) -> str:
        return f"{self.prefix}card:action:{action_id}"

    def keep_shown(self, action_id: str, card: Card, ref: MessageRef | None = None) -> None:
        """`card` is what the chat messages of this pending action show (and `ref` one more of them)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self._shown(action_id), "card", card.model_dump_json())
        if ref is not None:
            pipe.hset(self._shown(action_id), f"{ref.platform}:{ref.channel or ''}:{ref.message_id}",
                      ref.model_dump_json())
        pipe.expire(self._shown(action_id), self.keep)
        pipe.execute()

    def shown(self, action_id: str) -> tuple[Card | None, list[MessageRef]]:
        """The card the chat messages of this action show, and where they are."""
        raw = {k.decode(): v for k, v in self.client.hgetall(self._shown(action_id)).items()}
        card = raw.pop("card", None)
        return (Card.model_validate_json(card) if card else None), [MessageRef.model_validate_json(v)
                                                                     for v in raw.values()]

    def _posted(self, platform: str, channel: str | None, message_id: str) -> str:
        return f"{self.prefix}card:message:{platform}:{channel or ''}:{message_id}"

    def incident_of(self, platform: str, channel: str | None, message_id: str) -> str | None:
        """The incident whose card is this posted message (a reply in its thread is about that incident)."""
        found = self.client.get(self._posted(platform, channel, message_id))
        return found.decode() if found else None
