"""Writing opsbot's analysis back to Sentry: one comment per issue, edited on re-analysis.

API (Sentry's GroupNotesEndpoint / GroupNotesDetailsEndpoint):
  POST /api/0/issues/{issue_id}/comments/               {"text": markdown} → 201 {"id": ..., "data": {"text"}}
  PUT  /api/0/issues/{issue_id}/comments/{comment_id}/  {"text": markdown} → 200; 404 unless the token's own
  GET  /api/0/issues/{issue_id}/comments/               → [{"id", "data": {"text"}, ...}]
Quirks: PUT refuses org API keys ("Key doesn't have permission to edit Note"): use an internal integration
or user auth token. POST answers 400 "You have already posted that comment." to identical text within an hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import redis
import structlog

from bot.metrics import Metrics
from bot.settings import SentrySettings

log = structlog.get_logger(__name__)

MAX_RETRY_AFTER_S = 60.0


class SentryError(Exception):
    """Sentry did not do what was asked: which call, what it answered."""

    def __init__(self, message: str, status: int | None = None, body: str = ""):
        super().__init__(message)
        self.status, self.body = status, body


def _retry_after(value: str | None, attempt: int) -> float:
    if value:
        try:
            return min(float(value), MAX_RETRY_AFTER_S)
        except ValueError:
            try:
                return min(max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0), MAX_RETRY_AFTER_S)
            except (TypeError, ValueError):
                pass
    return min(0.5 * 2**attempt, MAX_RETRY_AFTER_S)


class SentryClient:
    def __init__(self, settings: SentrySettings, sleep: Callable[[float], None] = time.sleep):
        if settings.token is None:
            raise ValueError("SentryClient needs sentry.token")
        self.settings, self.sleep = settings, sleep
        self.http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), timeout=settings.timeout_s,
            headers={"Authorization": f"Bearer {settings.token.get_secret_value()}", "User-Agent": "opsbot"})

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> httpx.Response:
        what = f"{method} {self.settings.base_url.rstrip('/')}{path}"
        last = ""
        for attempt in range(self.settings.retries + 1):
            try:
                r = self.http.request(method, path, json=json)
            except httpx.HTTPError as e:
                last = f"{type(e).__name__}: {e}"
                wait = _retry_after(None, attempt)
            else:
                if r.status_code == 429 or r.status_code >= 500:
                    last = f"HTTP {r.status_code}"
                    wait = _retry_after(r.headers.get("retry-after") if r.status_code == 429 else None, attempt)
                else:
                    return r
            if attempt < self.settings.retries:
                log.warning("sentry_retry", call=what, problem=last, wait_s=wait, attempt=attempt + 1)
                self.sleep(wait)
        raise SentryError(f"could not reach Sentry for {what} after {self.settings.retries + 1} tries: {last}")

    @staticmethod
    def _check(r: httpx.Response, what: str, ok: int) -> Any:
        if r.status_code != ok:
            raise SentryError(f"Sentry answered {r.status_code} to {what}: {r.text[:300]}", r.status_code, r.text)
        return r.json()

    def create_comment(self, issue_id: str, text: str) -> str:
        r = self._call("POST", f"/api/0/issues/{issue_id}/comments/", {"text": text})
        return str(self._check(r, f"creating a comment on issue {issue_id}", 201)["id"])

    def update_comment(self, issue_id: str, comment_id: str, text: str) -> None:
        r = self._call("PUT", f"/api/0/issues/{issue_id}/comments/{comment_id}/", {"text": text})
        self._check(r, f"updating comment {comment_id} on issue {issue_id}", 200)

    def list_comments(self, issue_id: str) -> list[dict[str, Any]]:
        r = self._call("GET", f"/api/0/issues/{issue_id}/comments/")
        return list(self._check(r, f"listing the comments of issue {issue_id}", 200))


class SentryWriter:
    """Upserts opsbot's comment per Sentry issue; remembers the comment id in Redis. Off without a token."""

    def __init__(self, settings: SentrySettings, client: redis.Redis, prefix: str, metrics: Metrics | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.redis, self.prefix, self.metrics = client, prefix, metrics
        self.api = SentryClient(settings, sleep) if settings.token else None
        if self.api is None:
            log.warning("sentry_writeback_off", reason="no sentry.token configured; cards are still posted")

    @property
    def enabled(self) -> bool:
        return self.api is not None

    def _key(self, issue_id: str) -> str:
        return f"{self.prefix}sentry:comment:{issue_id}"

    def comment_id(self, issue_id: str) -> str | None:
        raw = self.redis.get(self._key(issue_id))
        return raw.decode() if raw else None

    def _count(self, op: str, outcome: str) -> None:
        if self.metrics:
            self.metrics.sentry_comments.labels(op, outcome).inc()

    def upsert(self, issue_id: str, text: str) -> str | None:
        """Edit our comment on the issue if we have one, else create it. Raises SentryError (retry later)."""
        if self.api is None:
            return None
        known = self.comment_id(issue_id)
        if known:
            try:
                self.api.update_comment(issue_id, known, text)
                self._count("update", "ok")
                return known
            except SentryError as e:
                if e.status != 404:
                    self._count("update", "error")
                    raise
                log.warning("sentry_comment_gone", issue=issue_id, comment=known)  # deleted by a human: recreate
        try:
            new = self.api.create_comment(issue_id, text)
        except SentryError as e:
            if e.status == 400 and "already posted" in e.body:
                new = self._find(issue_id, text)
            elif e.status == 404:  # no such issue (deleted, or a synthetic one): nothing to comment on
                log.warning("sentry_issue_not_found", issue=issue_id)
                self._count("create", "no_issue")
                return None
            else:
                self._count("create", "error")
                raise
        self.redis.set(self._key(issue_id), new)
        self._count("create", "ok")
        return new

    def _find(self, issue_id: str, text: str) -> str:
        for note in self.api.list_comments(issue_id):  # type: ignore[union-attr]
            if (note.get("data") or {}).get("text") == text:
                return str(note["id"])
        raise SentryError(f"Sentry says the comment on issue {issue_id} exists but it is not in its comment list")
