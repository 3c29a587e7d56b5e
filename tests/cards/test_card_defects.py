"""The defects read on the shipped scenarios' cards, pinned on those cards (each scenario triaged on a sandbox of
this module's own by the served pipeline's triage, bot.runs.cards): an unrelated neighbour's line among the
decisive lines, the same fact twice, opsbot's words cut inside a word, a caller's symptom quoted where the
diagnosis has the mechanism's fact, and a rollback's whole preview on the card."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cards import strings as S
from bot.cards.body import body
from bot.cards.headline import cut_words
from bot.cards.model import Card
from bot.cards.text import render_text, render_thread_text
from bot.runs.cards import scenario_cards
from sandbox import scenario
from sandbox.manager import Sandbox

NAMES = ["service-selector-mismatch", "dependency-down-redis", "crashloop-missing-env"]


@pytest.fixture(scope="module")
def cards(own_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Card]]:
    knowledge = Path(tmp_path_factory.mktemp("knowledge"))
    yield {sc.name: card for sc, card in scenario_cards(own_sandbox, [scenario.load(n) for n in NAMES], knowledge)}


def shown(card: Card) -> list[str]:
    """The card's decisive lines as the console prints them."""
    return [line for line in render_text(card).splitlines() if line.startswith("  • [")]


def test_an_unrelated_pods_line_is_not_among_the_decisive_lines(cards: dict[str, Card]) -> None:
    card = cards["service-selector-mismatch"]
    unrelated = "SMTP_HOST is not set"  # the newsletter's own failure, which has nothing to do with shop/payment
    assert any(unrelated in e.text for e in card.evidence), "the scenario's unrelated neighbour was read"
    assert shown(card) and not any(unrelated in line for line in shown(card))
    assert unrelated in render_thread_text(card), "it stays in the thread, with every line"


def test_a_fact_is_on_the_card_once(cards: dict[str, Card]) -> None:
    card = cards["dependency-down-redis"]
    lines = shown(card)
    assert sum("CrashLoopBackOff" in line for line in lines) == 1, lines
    assert any("redis-master-0" in line for line in lines)


def test_the_headline_is_cut_at_a_word_and_names_the_cause_object(cards: dict[str, Card]) -> None:
    card = cards["dependency-down-redis"]
    head = body(card).headline
    assert head is not None
    words = head.before  # opsbot's part of the headline, before the quoted line
    assert "Pod cache/redis-master-0" in words and "shop/checkout" in words
    assert not re.search(r"\w…", words), f"cut inside a word: {words!r}"
    assert "Bad file format reading the append only file" in (head.quote or "")


def test_the_headline_states_the_mechanism_not_a_callers_line(cards: dict[str, Card]) -> None:
    card = cards["service-selector-mismatch"]
    headline = render_text(card).splitlines()[1]
    assert "Service shop/payment" in headline
    assert "selector app=payment" in headline and "app=payments" in headline, headline
    assert "charge failed" not in headline, "the caller's symptom is evidence, not the cause"


def test_the_rollback_line_is_short_and_its_whole_preview_is_in_the_thread(cards: dict[str, Card]) -> None:
    card = cards["crashloop-missing-env"]
    rollback = next(a for a in card.actions if a.tool == "k8s_rollback")
    line = next(line for line in render_text(card).splitlines() if f"#{rollback.action_id}" in line)
    assert "revision 2 → 1" in line and "checkout:1.5.0 → 1.4.2" in line, line
    assert "the newest earlier revision" not in line and "health" not in line
    assert len(line) < len(rollback.summary)
    thread = render_thread_text(card)
    assert S.PROPOSED_IN_FULL in thread and rollback.summary in thread


@pytest.mark.parametrize("limit", [20, 37, 60, 99])
def test_opsbots_words_are_cut_after_a_whole_word(limit: int) -> None:
    phrase = "Pod cache/redis-master-0 (CrashLoopBackOff) behind Service cache/redis-master, which has no ready endpoints"
    cut = cut_words(phrase, limit)
    assert len(cut) <= limit and cut.endswith("…")
    assert phrase.startswith(cut[:-1]) and phrase[len(cut) - 1] in " ,", f"cut inside a word: {cut!r}"
