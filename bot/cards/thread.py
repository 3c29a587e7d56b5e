"""A card's thread: what the card leaves out, in full. The diagnosis with its mode and object, every evidence line
word for word, every read that could not run and why, the playbook's steps, the similar incidents. It is posted
under the card (a Slack thread reply, a Telegram reply to the card) and printed by `opsbot incident show`; a
thread longer than one message is split at line ends into at most MAX_PARTS messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

from bot.cards import strings as S
from bot.cards.body import failing
from bot.cards.common import ACTION_CHARS, diagnosed, one_line, said, similar_line
from bot.cards.model import Card
from bot.cards.short_action import short

MAX_PARTS = 6  # messages of one thread; past them, the last says where the rest is


Style = Literal["inline", "quote", "list", "steps", "evidence"]


class Section(NamedTuple):
    """A heading and its lines. `style`: inline (one line of opsbot's, after the heading), quote (the source's
    words, a log line), list, steps (numbered), evidence (each line after the read that said it, `reads`)."""

    heading: str
    lines: list[str]
    style: Style = "list"
    reads: tuple[str, ...] = ()


def sections(card: Card) -> list[Section]:
    """The thread's sections, in reading order; empty when the card has nothing more to tell (a chat action
    card's whole story is on it)."""
    if card.source == "chat":
        return []
    heading, quote = said(card)
    out = [Section(heading, card.failing.splitlines() or [""], "quote")] if quote and failing(card) != card.failing \
        else []  # the alert's words, cut on the card
    out += [Section(h, [one_line(t)] if not q else t.splitlines() or [""], "quote" if q else "inline")
            for h, t, q in diagnosed(card) if h != S.TO_DO]  # what to do is on the card
    if card.evidence:
        out.append(Section(S.EVIDENCE_ALL, [one_line(e.text) for e in card.evidence], "evidence",
                           tuple(e.check for e in card.evidence)))
    if card.could_not_run:
        out.append(Section(S.COULD_NOT_RUN, [one_line(c) for c in card.could_not_run]))
    if card.playbook:
        p = card.playbook
        out.append(Section(f"{S.PLAYBOOK}: {p.title} ({p.name})", p.steps, "steps"))
    if card.similar:
        out.append(Section(S.SIMILAR, [similar_line(s) for s in card.similar]))
    if any(len(a.summary) > ACTION_CHARS or short(a) != a.summary for a in card.actions):  # short on the card
        out.append(Section(S.PROPOSED_IN_FULL, [f"#{a.action_id or '-'} {one_line(a.summary)}"
                                                + (f" (why: {one_line(a.why)})" if a.why else "")
                                                for a in card.actions]))
    if card.analysis_note == S.NO_ANALYSIS_MODEL:
        out.append(Section(S.NO_ANALYSIS, [card.analysis_note], "inline"))
    return out


class Marks(NamedTuple):
    """How a platform marks each kind of thread line (its escaping included)."""

    inline: Callable[[str, str], str]  # a heading and its one line
    heading: Callable[[str], str]
    quote: Callable[[str], str]
    evidence: Callable[[str, str], str]  # the read, the line
    step: Callable[[int, str], str]
    item: Callable[[str], str]


TEXT = Marks(inline=lambda h, line: f"{h}: {line}", heading=lambda h: f"{h}:", quote=lambda line: f"  > {line}",
             evidence=lambda read, line: f"  • [{read}] {line}", step=lambda i, line: f"  {i}. {line}",
             item=lambda line: f"  • {line}")


def marked(card: Card, marks: Marks, cut: Callable[[str], str] = lambda line: line) -> list[str]:
    """The thread's lines as `marks` shows them, each source line first passed through `cut`."""
    out: list[str] = []
    for s in sections(card):
        lines = [cut(line) for line in s.lines]
        if s.style == "inline":
            out.append(marks.inline(s.heading, lines[0]))
            continue
        out.append(marks.heading(s.heading))
        if s.style == "quote":
            out += [marks.quote(line) for line in lines]
        elif s.style == "evidence":
            out += [marks.evidence(r, line) for r, line in zip(s.reads, lines, strict=True)]
        elif s.style == "steps":
            out += [marks.step(i, line) for i, line in enumerate(lines, 1)]
        else:
            out += [marks.item(line) for line in lines]
    return out


def text_lines(card: Card) -> list[str]:
    """The thread as plain text, as the console and `opsbot incident show` print it: evidence as
    '  • [read] text', a quote as '  > text'."""
    return marked(card, TEXT)


def split(lines: list[str], limit: int, size: Callable[[str], int], more: Callable[[int], str]) -> list[str]:
    """`lines` as messages of at most `limit` (by `size`), split at line ends, a line longer than a message cut;
    at most MAX_PARTS messages, the last ending with `more(n)` when n lines did not fit."""
    parts: list[str] = []
    part = ""
    for i, line in enumerate(lines):
        while size(line) > limit:
            line = line[: max(1, len(line) - (size(line) - limit) - 1)] + "…"
        if part and size(part) + 1 + size(line) > limit:
            if len(parts) == MAX_PARTS - 1:
                note = more(len(lines) - i)
                while part and size(part) + 1 + size(note) > limit:
                    part = part.rsplit("\n", 1)[0] if "\n" in part else ""
                    i -= 1
                parts.append(f"{part}\n{more(len(lines) - i)}" if part else more(len(lines) - i))
                return parts
            parts.append(part)
            part = line
        else:
            part = f"{part}\n{line}" if part else line
    return [*parts, part] if part else parts
