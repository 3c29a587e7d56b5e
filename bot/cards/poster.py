"""Posting cards: a Poster per platform, and the publisher that posts once per incident and edits after."""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from bot.cards.model import Card, CardAction, Silenced
from bot.cards.store import CardStore, MessageRef
from bot.cards import strings as S
from bot.cards.text import render_text, render_thread_text
from bot.cards.thread import text_lines
from bot.metrics import Metrics

log = structlog.get_logger(__name__)


class Poster(Protocol):
    platform: str

    def post(self, card: Card) -> MessageRef: ...

    def update(self, ref: MessageRef, card: Card) -> MessageRef: ...

    def attach(self, ref: MessageRef, card: Card, png: bytes) -> None:
        """The card's graph under its post (a reply in the card's thread)."""

    def thread(self, ref: MessageRef, card: Card) -> None:
        """The card's thread (bot.cards.thread) under its post: every line the card leaves out."""

    def reply(self, ref: MessageRef, text: str) -> None:
        """A line of opsbot's in the card's thread (a verdict, a reminder): plain text, its mentions notify."""

    def say(self, text: str, channel: str | None = None) -> None:
        """A message of opsbot's of its own (the scheduled report) in `channel`, by default where cards go."""


@dataclass
class Posted:
    op: str  # post | update | graph | thread
    incident_id: str
    message_id: str
    card: Card


def changed_lines(message_id: str, before: str, after: str) -> str:
    """An edit as the lines it removes (-) and adds (+)."""
    diff = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]
    return "\n".join([f"[edit {message_id}: {'what changed' if diff else 'nothing visible changed'}]", *diff])


@dataclass
class ConsolePoster:
    """Prints the plain-text card (when `echo` is given) and records every post, edit and graph."""

    echo: Callable[[str], None] | None = None
    platform: str = "console"
    history: list[Posted] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)  # (the card's message id, the line)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: int = 0
    _shown: dict[str, str] = field(default_factory=dict)  # the text each message shows now
    _threads: dict[str, str] = field(default_factory=dict)  # the thread under each message

    def post(self, card: Card) -> MessageRef:
        text = render_text(card)
        with self._lock:
            self._seq += 1
            ref = MessageRef(platform=self.platform, message_id=f"console-{self._seq}")
            self.history.append(Posted("post", card.incident_id, ref.message_id, card))
            self._shown[ref.message_id] = text
        if self.echo:
            self.echo(text)
        return ref

    def update(self, ref: MessageRef, card: Card) -> MessageRef:
        """An edit prints only the lines it changes (a terminal keeps the card printed above)."""
        text = render_text(card)
        with self._lock:
            self.history.append(Posted("update", card.incident_id, ref.message_id, card))
            before = self._shown.get(ref.message_id)
            self._shown[ref.message_id] = text
        if self.echo:
            self.echo(f"[edit {ref.message_id}]\n{text}" if before is None else changed_lines(ref.message_id, before, text))
        return ref

    def attach(self, ref: MessageRef, card: Card, png: bytes) -> None:
        with self._lock:
            self.history.append(Posted("graph", card.incident_id, ref.message_id, card))
        if self.echo:
            self.echo(f"[graph under {ref.message_id}: a {len(png) // 1024} KB PNG]")

    def thread(self, ref: MessageRef, card: Card) -> None:
        """Recorded, and (when echoing) announced in one line: the terminal keeps the card short too."""
        lines = len(text_lines(card))
        with self._lock:
            self.history.append(Posted("thread", card.incident_id, ref.message_id, card))
            self._threads[ref.message_id] = render_thread_text(card)
        if self.echo:
            self.echo(S.THREAD_POSTED.format(message=ref.message_id, lines=lines, id=card.incident_id))

    def thread_text(self, message_id: str) -> str | None:
        """The thread last posted under a message."""
        with self._lock:
            return self._threads.get(message_id)

    def reply(self, ref: MessageRef, text: str) -> None:
        with self._lock:
            self.replies.append((ref.message_id, text))
        if self.echo:
            self.echo(f"[in the thread of {ref.message_id}] {text}")

    def say(self, text: str, channel: str | None = None) -> None:
        with self._lock:
            self.replies.append(("", text))
        if self.echo:
            self.echo(text)

    def posts(self, incident_id: str | None = None) -> list[Posted]:
        with self._lock:
            return [p for p in self.history if p.op == "post" and incident_id in (None, p.incident_id)]

    def updates(self, incident_id: str | None = None) -> list[Posted]:
        with self._lock:
            return [p for p in self.history if p.op == "update" and incident_id in (None, p.incident_id)]


_PROGRESS = {"pending": 0, "error": 0, "approved": 1, "denied": 2, "executed": 2, "failed": 2, "expired": 2}


def _silence(new: Silenced | None, old: Silenced | None) -> Silenced | None:
    """The later word on a silence: a newer silence, or the same one's end."""
    if new is None or old is None:
        return new or old
    if new.id != old.id:
        return new if new.at >= old.at else old
    return old if old.ended and not new.ended else new


def reconciled(card: Card, stored: Card) -> Card:
    """`card` as the next version after `stored`, keeping any action `stored` has taken further (a decision),
    and the acknowledgement and silence people gave it meanwhile."""
    known = {a.action_id: a for a in stored.actions if a.action_id}
    def kept(a: CardAction) -> CardAction:
        before = known.get(a.action_id) if a.action_id else None
        if before is None:
            return a
        final = _PROGRESS[before.status] == 2  # a decision, execution or expiry is never rewritten
        return before if final or _PROGRESS[before.status] > _PROGRESS[a.status] else a

    actions = [kept(a) for a in card.actions]
    return card.model_copy(update={"actions": actions, "version": stored.version + 1,
                                   "acknowledged": card.acknowledged or (
                                       stored.acknowledged if stored.status == "firing" else None),
                                   "silence": _silence(card.silence, stored.silence)})


class Publisher:
    """Upsert a card on every platform: post when the incident has no message there yet, else edit it.

    The message id is stored right after the post; a crash between the two is the one window where a retry
    posts again (no chat platform offers an idempotency key for posting).
    """

    def __init__(self, store: CardStore, posters: list[Poster], metrics: Metrics | None = None):
        self.store, self.posters, self.metrics = store, posters, metrics

    def publish(self, card: Card, amend: Callable[[Card], Card] | None = None) -> None:
        """Save and show `card`, one publish per incident at a time. A card built from an older state cannot undo
        a decision made meanwhile: each action keeps its furthest state, and the version only grows. `amend`
        runs under the lock (a group's lines, read where no other publish can interleave)."""
        with self.store.lock(card.incident_id):
            stored = self.store.get(card.incident_id)
            card = reconciled(card, stored) if stored else card.model_copy(update={"version": 1})
            card = amend(card) if amend else card
            self.store.save(card)
            self._show(card)

    def edit(self, incident_id: str, change: Callable[[Card], Card]) -> Card | None:
        """Change the stored card under its lock (nothing else can interleave) and show it; None if none."""
        with self.store.lock(incident_id):
            stored = self.store.get(incident_id)
            if stored is None:
                return None
            card = change(stored).model_copy(update={"version": stored.version + 1})
            self.store.save(card)
            self._show(card)
            return card

    def edit_shown(self, action_id: str, change: Callable[[Card], Card]) -> Card | None:
        """Change the card that chat messages of one action show (posted in a conversation, not an incident's card)
        and edit each of those messages on its platform; None if none was kept."""
        with self.store.lock(f"action-{action_id}"):
            card, refs = self.store.shown(action_id)
            if card is None:
                return None
            card = change(card)
            self.store.keep_shown(action_id, card)
            posters = {p.platform: p for p in self.posters}
            for ref in refs:
                if (poster := posters.get(ref.platform)) is not None:
                    poster.update(ref, card)
                    log.info("action_message_edited", action=action_id, platform=ref.platform)
            return card

    def reply(self, incident_id: str, text: Callable[[str], str]) -> int:
        """A line in the thread of the incident's card on every platform it was posted to (`text` by platform:
        mentions are written per platform); how many were posted."""
        posters = {p.platform: p for p in self.posters}
        posted = 0
        for platform, ref in self.store.refs(incident_id).items():
            if (poster := posters.get(platform)) is not None:
                poster.reply(ref, text(platform))
                posted += 1
        return posted

    def _show(self, card: Card) -> None:
        for poster in self.posters:
            ref = self.store.ref(card.incident_id, poster.platform)
            if ref is None:
                ref = poster.post(card)
                self.store.set_ref(card.incident_id, ref)
                op = "post"
                self._attach(poster, ref, card)
            else:
                new = poster.update(ref, card)
                if new != ref:
                    self.store.set_ref(card.incident_id, new)
                ref, op = new, "update"
            self._thread(poster, ref, card)
            if self.metrics:
                self.metrics.cards_posted.labels(poster.platform, op).inc()
            log.info("card_published", incident=card.incident_id, platform=poster.platform, op=op)

    def _thread(self, poster: Poster, ref: MessageRef, card: Card) -> None:
        """The card's thread under its message, once per content (a new triage's evidence posts a new one);
        failing costs only the thread, which `opsbot incident show` still prints."""
        text = render_thread_text(card)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        if not text or self.store.thread_digest(card.incident_id, poster.platform) == digest:
            return
        try:
            poster.thread(ref, card)
        except Exception as e:  # e.g. a platform refusing the reply: the card itself is posted
            log.warning("card_thread_not_posted", incident=card.incident_id, platform=poster.platform,
                        error=f"{type(e).__name__}: {e}"[:300])
            return
        self.store.set_thread_digest(card.incident_id, poster.platform, digest)
        log.info("card_thread_posted", incident=card.incident_id, platform=poster.platform)

    def _attach(self, poster: Poster, ref: MessageRef, card: Card) -> None:
        """The graph triage kept for the card, under its first post on the platform; failing costs only the graph."""
        try:
            png = self.store.graph(card.incident_id)
            if png is None:
                return
            poster.attach(ref, card, png)
        except Exception as e:  # e.g. Slack's missing_scope (files:write): the card itself is posted
            log.warning("card_graph_not_posted", incident=card.incident_id, platform=poster.platform,
                        error=f"{type(e).__name__}: {e}"[:300])
            return
        log.info("card_graph_posted", incident=card.incident_id, platform=poster.platform, bytes=len(png))
