"""No fact of the long card is lost on the short one: for every shipped scenario, triaged on a sandbox of this
module's own (bot.runs.cards: the served pipeline's triage, without the alert path's waits), the union of the
card and its thread holds every line the old card printed (each evidence line with its read, each read that could
not run, the diagnosis, what to do, the playbook's steps, the similar incidents, each proposed action), on the
console, in Slack and in Telegram, within what those platforms accept; and the card leads with the cause."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cards import strings as S
from bot.cards.common import one_line, similar_line
from bot.cards.model import Card
from bot.cards.slack import MAX_THREAD_TEXT, render_slack, render_slack_thread
from bot.cards.telegram import MAX_TEXT, render_telegram, render_telegram_thread, size
from bot.cards.text import render_text, render_thread_text
from bot.runs.cards import scenario_cards
from sandbox import scenario
from sandbox.manager import Sandbox
from tests.support.fake_slack import blocks_text, check_blocks
from tests.support.fake_telegram import check_html

SHIPPED = scenario.shipped()


@pytest.fixture(scope="module")
def cards(own_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Card]]:
    """Every shipped scenario's first card, triaged once for the module."""
    knowledge = Path(tmp_path_factory.mktemp("knowledge"))
    yield {sc.name: card for sc, card in scenario_cards(own_sandbox, [scenario.load(n) for n in SHIPPED], knowledge)}


def old_lines(card: Card) -> list[str]:
    """What the card printed before it led with the cause (its facts, one per line, as the console showed them)."""
    out = [f"[{e.check}] {one_line(e.text)}" for e in card.evidence]
    out += [one_line(c) for c in card.could_not_run] + [one_line(s) for s in (card.diagnosis, card.advice) if s]
    out += [one_line(s) for s in card.playbook.steps] if card.playbook else []
    out += [similar_line(s) for s in card.similar] + [a.summary for a in card.actions]
    return out


def slack_seen(card: Card) -> str:
    """Every word Slack shows of the card and its thread replies, unescaped."""
    blocks = render_slack(card)["attachments"][0]["blocks"]
    texts = [(b.get("text") or {}).get("text", "") for b in blocks]
    texts += [f["text"] for b in blocks for f in b.get("fields") or []]
    texts += [e.get("text", "") for b in blocks if b["type"] == "context" for e in b["elements"]]
    return html.unescape("\n".join(texts + render_slack_thread(card)))


def telegram_seen(card: Card) -> str:
    return "\n".join(check_html(m) for m in [render_telegram(card)["text"], *render_telegram_thread(card)])


def plain(text: str) -> str:
    """Markup of the platforms taken out: code spans' backticks, bold stars, bullets, one space between words."""
    return " ".join(re.sub(r"[`*]|^• |^>", "", text, flags=re.M).split())


@pytest.mark.parametrize("name", SHIPPED)
def test_the_card_and_its_thread_hold_every_line_of_the_old_card(name: str, cards: dict[str, Card]) -> None:
    card = cards[name]
    lines = old_lines(card)
    if not card.evidence:  # nothing could be read: the card says so, as the old one did
        assert S.NO_EVIDENCE in render_text(card)
    console = render_text(card) + "\n" + render_thread_text(card)
    slack, telegram = plain(slack_seen(card)), plain(telegram_seen(card))
    for line in lines:
        assert line in console, f"console lost: {line}"
        words = plain(line.removeprefix("[").replace("] ", " ", 1)) if line.startswith("[") else plain(line)
        assert words in slack, f"Slack lost: {line}"
        assert words in telegram, f"Telegram lost: {line}"


@pytest.mark.parametrize("name", SHIPPED)
def test_the_card_leads_with_the_cause_and_fits_every_platform(name: str, cards: dict[str, Card]) -> None:
    card = cards[name]
    body = render_slack(card)
    blocks = body["attachments"][0]["blocks"]
    assert check_blocks(blocks) is None and blocks_text(blocks) <= 12_000
    assert all(len(m) <= MAX_THREAD_TEXT for m in render_slack_thread(card)), "each reply within msg_too_long"
    for m in [render_telegram(card)["text"], *render_telegram_thread(card)]:
        check_html(m)
        assert size(m) <= MAX_TEXT
    headline = render_text(card).splitlines()[1]
    if card.failure_mode:
        assert card.failure_mode not in headline.split(":")[0], "the mode's name is detail, not the headline"
    else:
        assert "triage found no cause" in headline
    assert len([line for line in render_text(card).splitlines() if line.startswith("  • [")]) <= 5
    assert (S.EVIDENCE_ALL in render_thread_text(card)) == bool(card.evidence)
