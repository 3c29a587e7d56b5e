"""What an alert card's thread lends to what is said in it: the incident as a question's subject, and a command's
missing arguments (the incident's id, namespace or workload), with the feedback mark a command's words begin with."""

from __future__ import annotations

from bot.cards.model import Card
from bot.triage.troubleshoot import Asked
from knowledge.feedback import Mark, mark_of


def subject_of(card: Card) -> tuple[Asked, str, str]:
    """An alert card's incident as the subject of a question asked in its thread."""
    name = card.labels.get("alertname") or card.title.split(":")[0]
    asked = Asked(name=name, labels=card.labels, starts_at=card.started_at, service_first=False)
    return asked, f"incident {card.incident_id} ({name})", "the thread of its alert card"


def marked(words: list[str]) -> tuple[Mark, list[str]] | None:
    """The feedback mark the words begin with ('false-alarm', 'false alarm', 'fp') and the note after it."""
    for n in (2, 1):
        if len(words) >= n and (mark := mark_of(" ".join(words[:n]))) is not None:
            return mark, words[n:]
    return None


def filled(verb: str, args: list[str], card: Card) -> list[str]:
    """A command's arguments with what the card's incident supplies: its id, its namespace, its workload."""
    t = card.target
    if verb in ("ack", "unsilence", "incident") and not args:
        return [card.incident_id]
    if verb == "silence" and len(args) < 2 and not (args and args[0].startswith("inc-")):
        return [card.incident_id, *args]
    if verb == "feedback" and (not args or marked(args) is not None):
        return [card.incident_id, *args]
    if args or t is None:
        return args
    if verb in ("pods", "events", "changes") and t.namespace:
        return [t.namespace]
    if verb in ("logs", "troubleshoot", "restart", "rollback") and t.workload:
        return [f"{t.namespace}/{t.workload}" if t.namespace else t.workload]
    return args
