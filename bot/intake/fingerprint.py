"""Stable incident fingerprints from an alert's identifying labels: never from model output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

# labels that change between deliveries of the same problem and so must not split it into two incidents
VOLATILE_LABELS = frozenset({"receive_time", "prometheus_replica", "__replica__"})


def fingerprint(source: str, labels: Mapping[str, str]) -> str:
    """sha256 over the source and the sorted identifying labels, 16 hex characters.

    We always compute our own (rather than reuse Alertmanager's `fingerprint` field) so that the same labels
    give the same incident whatever sent them: Alertmanager, `amtool`, a test, or a Sentry adapter.
    """
    identifying = sorted((k, str(v)) for k, v in labels.items() if k not in VOLATILE_LABELS)
    blob = json.dumps([source, identifying], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
