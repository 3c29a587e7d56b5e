"""Which objects a card's diagnosis is about (the alerted workload, the object that holds the cause, the neighbours
triage followed: every object it read by name) and whose an evidence line is (the object its read named, else the
pod or service that said it, else the first object it names), so the card's decisive lines come from those
objects, never from an unrelated pod's line a read of a whole namespace returned.
"""

from __future__ import annotations

import re

from bot.cards.common import one_line
from bot.cards.model import Card

KINDS = ("Pod", "Service", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Node",
         "PersistentVolumeClaim", "PersistentVolume", "ConfigMap", "Secret", "ServiceAccount", "NetworkPolicy",
         "ResourceQuota", "LimitRange", "HorizontalPodAutoscaler", "Endpoints", "Ingress", "StorageClass")
NAME = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"
# "Pod cache/redis-master-0", "Deployment/payments", "Node worker-1": a kind, then namespace/name (a node: name)
OBJECT = re.compile(rf"\b(?:(?:{'|'.join(KINDS)})(?: {NAME}/|/)|Node )({NAME})\b(?!['/])")
ARG = re.compile(r"\b(name|deployment|pod|service|object_name)='([^']*)'")
# who said a line a read of a whole namespace returned: "20× error newsletter: …" (a log search by service),
# "checkout-5d8f-x2 checkout: …" (a pod's log), "checkout-5d8f-x2: CrashLoopBackOff …" (a pod list), "Pod/x: …"
SPEAKER = re.compile(rf"^(?:\d+× \w+ |(?:{'|'.join(KINDS)})/)?({NAME})(?: {NAME})?(?: \(previous\))?: ")
LEAD = re.compile(rf"^(?:{'|'.join(KINDS)}) (?:{NAME}/)?{NAME}(?: \([^)]*\))?")  # "Pod cache/x-0 (CrashLoopBackOff)"


def named(check: str) -> str | None:
    """The object a read was made for by name ('checkout' of "k8s_describe(kind='Service', name='checkout', …)"),
    None for a read of a whole namespace or cluster."""
    found = dict(ARG.findall(check))
    return next((found[k] for k in ("name", "deployment", "pod", "service", "object_name") if found.get(k)), None)


def names(card: Card) -> set[str]:
    """The names of the objects the diagnosis is about: the alerted workload (or object), every object its line
    and its cause object name, and every object triage read by name (the neighbours it followed)."""
    t = card.target
    out = {n for n in (t.workload, t.name) if n} if t else set()
    for text in (card.cause_object, card.diagnosis):
        out |= set(OBJECT.findall(text or ""))
    return out | {n for e in card.evidence if (n := named(e.check))}


def owner(check: str, text: str) -> str | None:
    """Whose the line is: the object its read named, else who said it; None for a line of a whole namespace that
    names nobody ("3 Services, 3 healthy")."""
    if name := named(check):
        return name
    text = one_line(text)
    said = SPEAKER.match(text) or OBJECT.search(text)
    return said.group(1) if said else None


def among(name: str | None, known: set[str]) -> bool:
    """`name` is one of `known`, or a pod of one of them ('checkout-5d8f-x2' of 'checkout'); True when the line
    names nobody (a namespace's summary is no neighbour's)."""
    return name is None or any(name == n or name.startswith(f"{n}-") for n in known)


def lead(text: str) -> str:
    """A long object phrase's leading object ('Pod cache/redis-master-0 (CrashLoopBackOff)' of 'Pod
    cache/redis-master-0 (CrashLoopBackOff) behind Service …'), or the phrase itself."""
    found = LEAD.match(one_line(text))
    return found.group(0) if found else one_line(text)
