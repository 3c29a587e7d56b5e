"""Alertmanager silences (API v2): create one over exact label matchers, read its state, expire it.

Not a tool the model is offered: silences are made by people from a card or a command, under the policy's
`silences` section (bot/guard/silencer.py), and audited there.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tools import alertmanager_api
from tools.context import ToolContext
from tools.metrics import active_alerts


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def create(ctx: ToolContext, labels: dict[str, str], starts_at: datetime, ends_at: datetime, created_by: str,
           comment: str) -> str:
    """A silence matching exactly these labels (each `name="value"`); its id."""
    matchers = [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in sorted(labels.items()) if v]
    body = {"matchers": matchers, "startsAt": _iso(starts_at), "endsAt": _iso(ends_at), "createdBy": created_by,
            "comment": comment}
    shown = ",".join(f'{m["name"]}={json.dumps(m["value"])}' for m in matchers)
    answer: Any = alertmanager_api.call(ctx, "POST", "/api/v2/silences", f"POST /api/v2/silences {{{shown}}}",
                                        json=body)
    return str(answer["silenceID"])


def state(ctx: ToolContext, silence_id: str) -> str:
    """active, pending or expired."""
    answer: Any = alertmanager_api.call(ctx, "GET", f"/api/v2/silence/{silence_id}",
                                        f"GET /api/v2/silence/{silence_id}")
    return str(answer["status"]["state"])


def firing(ctx: ToolContext, labels: dict[str, str]) -> int:
    """How many alerts matching these labels are not resolved in Alertmanager (silenced ones included)."""
    return len(active_alerts(ctx, [f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()) if v]))


def expire(ctx: ToolContext, silence_id: str) -> None:
    alertmanager_api.call(ctx, "DELETE", f"/api/v2/silence/{silence_id}", f"DELETE /api/v2/silence/{silence_id}")
