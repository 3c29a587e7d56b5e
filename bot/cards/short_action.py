"""A proposed action as the card names it, short: a rollback says what changes, its revisions and the image and
limit that differ ('roll back shop/checkout: revision 2 → 1 (image checkout:1.5.0 → 1.4.2, …)'), not every change,
why that revision nor its health; the action as proposed, whole, is in the card's thread (bot.cards.thread).
Other actions' summaries are short already and stay as they are.
"""

from __future__ import annotations

import re

from bot.cards.model import CardAction

# the rollback's preview (tools/k8s_actions.py): "roll back NS/NAME from revision N (IMAGE) to revision M (IMAGE), the
# newest earlier revision whose pod template differs from the current one (CHANGES); HEALTH"
ROLLBACK = re.compile(r"^roll back (?P<what>\S+) from revision (?P<cur>\d+) \((?P<cur_image>[^()]*)\) to revision "
                      r"(?P<to>\d+) \((?P<to_image>[^()]*)\)(?:, [^(]*\((?P<changes>.*)\); )?")
IMAGE = re.compile(r"\bimage (\S+) → (\S+)")
RESOURCES = re.compile(r"\b(?:limit|request)")  # a changed limit or request: shown beside the image


def image_change(before: str, after: str) -> str:
    """'checkout:1.5.0 → 1.4.2' of 'registry.local/shop/checkout:1.5.0' and '…/checkout:1.4.2': the image's last
    name, and the tag alone after the arrow when only the tag differs."""
    old, new = before.rsplit("/", 1)[-1], after.rsplit("/", 1)[-1]
    repo, _, tag = new.partition(":")
    same_repo = bool(tag) and before.rpartition(":")[0] == after.rpartition(":")[0] and old.startswith(f"{repo}:")
    return f"{old} → {tag}" if same_repo else f"{old} → {new}"


def short(a: CardAction) -> str:
    """The action's line on the card: a rollback as its revisions and what differs, any other as proposed."""
    found = ROLLBACK.match(a.summary) if a.tool == "k8s_rollback" else None
    if found is None:
        return a.summary
    changes = [c.strip() for c in (found["changes"] or "").split("; ") if c.strip() and c.strip() != "…"]
    if not changes:
        changes = [f"image {found['cur_image']} → {found['to_image']}"]
    picked = [c for c in (next((c for c in changes if IMAGE.search(c)), None),
                          next((c for c in changes if RESOURCES.search(c)), None)) if c] or changes[:1]
    shown = [IMAGE.sub(lambda m: f"image {image_change(*m.groups())}", c) for c in picked]
    more = ", …" if len(changes) > len(picked) or "; …" in (found["changes"] or "") else ""
    return f"roll back {found['what']}: revision {found['cur']} → {found['to']} ({'; '.join(shown)}{more})"
