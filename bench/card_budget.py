"""How long every shipped scenario's card is on each renderer, and whether its cause is within the first lines.

    python bench/card_budget.py                      # triage each scenario on a sandbox of its own
    python bench/card_budget.py --dir STATE          # … on that sandbox (started if it is not up)
    python bench/card_budget.py --save cards.json    # … and keep the cards (Card JSON)
    python bench/card_budget.py --cards cards.json   # measure kept cards (from --save, or `opsbot eval --json`)

Per scenario and renderer (console text, Slack blocks, Telegram HTML, Sentry comment): the characters and the
non-blank lines a reader sees (Slack's blocks and Telegram's HTML as their visible text), and whether the cause,
the diagnosis' decisive words, is within the first three of those lines; then the median and the maximum per
renderer. The thread under a card is not counted: it is one tap away. The renderers are those importable first on
sys.path: PYTHONPATH=/work/main measures main's cards from the same kept cards (before and after).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))  # after PYTHONPATH: its renderers come first

from bot.cards.model import Card  # noqa: E402
from bot.cards.sentry_comment import render_sentry_comment  # noqa: E402
from bot.cards.slack import render_slack  # noqa: E402
from bot.cards.telegram import render_telegram  # noqa: E402
from bot.cards.text import render_text  # noqa: E402

FIRST = 3  # the cause should be within this many lines
CAUSE_CHARS = 30  # of the cause's words, what must be seen
SPEAKER = re.compile(r"^[a-z0-9][-a-z0-9./]*(?: [a-z0-9][-a-z0-9]*)?(?: \(previous\))?: ")  # "pod container: "


def slack_text(card: Card) -> str:
    """What Slack shows of the card's blocks, a line per line: fields two to a row, buttons one row per block."""
    out: list[str] = []
    for b in render_slack(card)["attachments"][0]["blocks"]:
        if b["type"] == "actions":
            out.append(" ".join(e["text"]["text"] for e in b["elements"]))
        elif b.get("fields"):
            cells = [f["text"].replace("\n", " ") for f in b["fields"]]
            out += ["   ".join(cells[i:i + 2]) for i in range(0, len(cells), 2)]
        elif b["type"] == "context":
            out.append(" ".join(e.get("text", "") for e in b["elements"]))
        else:
            out.append(b["text"]["text"])
    return html.unescape("\n".join(out))


def telegram_text(card: Card) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", render_telegram(card)["text"]))


RENDERERS: dict[str, Callable[[Card], str]] = {
    "console": render_text, "slack": slack_text, "telegram": telegram_text, "sentry": render_sentry_comment}


def cause_words(card: Card) -> list[str] | None:
    """The diagnosis' decisive words, in each form a headline may quote them (the log line it rests on, a line it
    quotes, its state), None when triage found no cause or it rests on the alert alone; the same test for a card
    of any version."""
    if not card.diagnosis or card.diagnosis_basis == "alert":
        return None
    quotes = [SPEAKER.sub("", e.text) for e in card.evidence if e.check == "diagnosis"][1:]
    forms = [card.diagnosis_source, *quotes, card.diagnosis.split(": ", 2)[-1]]
    return [" ".join(f.split())[:CAUSE_CHARS] for f in forms if f]


def measure(card: Card) -> dict[str, dict[str, Any]]:
    words = cause_words(card)
    out = {}
    for name, render in RENDERERS.items():
        lines = [line for line in render(card).splitlines() if line.strip()]
        first = " ".join(" ".join(line.split()) for line in lines[:FIRST])
        out[name] = {"chars": sum(len(line) for line in lines) + len(lines) - 1, "lines": len(lines),
                     "cause_first": None if words is None else any(w in first for w in words)}
    return out


def kept(path: Path) -> list[tuple[str, Card]]:
    """Cards kept by --save ({name: card}) or written by `opsbot eval --json` (each score's card_data)."""
    data = json.loads(path.read_text())
    if "scores" in data:
        return [(s["scenario"], Card.model_validate(s["card_data"])) for s in data["scores"] if s.get("card_data")]
    return [(name, Card.model_validate(c)) for name, c in data.items()]


def triaged(state: Path | None, names: list[str]) -> list[tuple[str, Card]]:
    """Each scenario loaded into a sandbox and its first alert triaged (bot.runs.cards)."""
    import structlog

    from bot.runs.cards import scenario_cards
    from sandbox import scenario
    from sandbox.manager import Sandbox

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    work = Path(tempfile.mkdtemp(prefix="opsbot-card-budget-"))
    sb = Sandbox(state or work / "sandbox")
    ours = not all(sb.status().values()) if state else True
    sb.up()
    try:
        scenarios = [scenario.load(n) for n in names or scenario.shipped()]
        out = []
        for sc, card in scenario_cards(sb, scenarios, work / "knowledge"):
            print(f"  triaged {sc.name}", file=sys.stderr)
            out.append((sc.name, card))
        return out
    finally:
        if ours:
            sb.down()


def report(cards: list[tuple[str, Card]]) -> None:
    rows = [(name, measure(card)) for name, card in cards]
    print(f"{'scenario':<46}" + "".join(f"{r:>22}" for r in RENDERERS))
    for name, m in rows:
        cells = [f"{m[r]['chars']:>6} ch {m[r]['lines']:>3} ln "
                 f"{'-' if m[r]['cause_first'] is None else 'y' if m[r]['cause_first'] else 'N':>2}" for r in RENDERERS]
        print(f"{name:<46}" + "".join(f"{c:>22}" for c in cells))
    print()
    for r in RENDERERS:
        chars = [m[r]["chars"] for _, m in rows]
        lines = [m[r]["lines"] for _, m in rows]
        found = [m[r]["cause_first"] for _, m in rows if m[r]["cause_first"] is not None]
        print(f"{r:<9} characters median {statistics.median(chars):>7,.0f} max {max(chars):>6,}   "
              f"lines median {statistics.median(lines):>4.0f} max {max(lines):>3}   "
              f"cause within the first {FIRST} lines: {sum(found)} of {len(found)} cards that found one")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", help="shipped scenario names (default: all)")
    ap.add_argument("--cards", type=Path, help="measure kept cards instead of triaging")
    ap.add_argument("--save", type=Path, help="keep the triaged cards here (Card JSON by scenario)")
    ap.add_argument("--dir", type=Path, help="sandbox state dir (default: a temporary one, stopped after)")
    args = ap.parse_args()
    cards = kept(args.cards) if args.cards else triaged(args.dir, args.scenarios)
    if args.save:
        args.save.write_text(json.dumps({n: c.model_dump(mode="json") for n, c in cards}, indent=1,
                                        ensure_ascii=False))
    report(cards)


if __name__ == "__main__":
    main()
