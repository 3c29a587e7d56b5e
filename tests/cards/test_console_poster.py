"""The console prints a card once; an edit prints the lines it changes, so a terminal transcript stays readable."""

from __future__ import annotations

from bot.cards.poster import ConsolePoster
from bot.cards.text import render_text
from tests.cards.test_publisher import card


def test_an_edit_prints_only_the_lines_it_changes() -> None:
    printed: list[str] = []
    poster = ConsolePoster(echo=printed.append)
    ref = poster.post(card())
    poster.update(ref, card(action="executed"))
    poster.update(ref, card(action="executed"))
    first, edit, same = printed
    assert first == render_text(card())
    changed = edit.splitlines()
    assert changed[0] == f"[edit {ref.message_id}: what changed]"
    assert [line[:2] for line in changed[1:]] == ["- ", "+ "], "one action line replaced, nothing else reprinted"
    assert "executed" in changed[2] and "executed" not in changed[1]
    assert same == f"[edit {ref.message_id}: nothing visible changed]"
