"""The kill switch of automatic actions: `opsbot policy pause` / `resume`, kept in Redis so every opsbot process
sees it at its next proposal, and the setting `autonomy_paused`. While paused, every mutation a policy rule would
run without a person's approval (by its track record, or a plain `decide: allow`) asks a person instead
(policies/engine.py), and says why."""

from __future__ import annotations

from datetime import datetime

import redis
from pydantic import BaseModel

from bot.settings import Settings


class Pause(BaseModel):
    """Who paused automatic actions, when, and why."""

    by: str
    at: datetime
    reason: str = ""

    def words(self) -> str:
        """'by cli:alice at 10:02 UTC: deploy freeze'."""
        return f"by {self.by} at {self.at:%H:%M} UTC" + (f": {self.reason}" if self.reason else "")


class PauseSwitch:
    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.key = client, f"{prefix}policy:paused"

    def pause(self, by: str, at: datetime, reason: str = "") -> None:
        self.client.set(self.key, Pause(by=by, at=at, reason=reason).model_dump_json())

    def resume(self) -> Pause | None:
        """Lift the pause; what it was, or None when nothing was paused."""
        was = self.state()
        self.client.delete(self.key)
        return was

    def state(self) -> Pause | None:
        """The pause in force, or None. Raises redis.RedisError when Redis does not answer."""
        raw = self.client.get(self.key)
        return Pause.model_validate_json(raw) if raw else None

    def why(self, settings: Settings) -> str | None:
        """Why automatic actions are paused now, in words; None when they are not. Redis not answering counts as
        paused: a rule that cannot tell asks a person."""
        if settings.autonomy_paused:
            return "by the setting autonomy_paused"
        try:
            pause = self.state()
        except redis.RedisError as e:
            return f"the pause switch in Redis could not be read: {type(e).__name__}"
        return pause.words() if pause else None
