"""A local fake of the part of Sentry's Web API opsbot uses, checking auth, paths and bodies as documented.

POST /api/0/issues/{issue_id}/comments/ {"text"} → 201 note; identical text again → 400 "already posted".
PUT  /api/0/issues/{issue_id}/comments/{note_id}/ {"text"} → 200; another user's or unknown note → 404.
GET  /api/0/issues/{issue_id}/comments/ → the issue's notes, newest first.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class FakeSentry:
    token: str
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    throttle_next: int = 0  # answer this many next requests with 429 Retry-After: 1
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def comments(self, issue_id: str) -> list[dict[str, Any]]:
        return self.notes.get(issue_id, [])

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def auth(request: Request, call_next):  # type: ignore[no-untyped-def]
            if request.url.path.startswith("/api/"):
                self.calls.append((request.method, request.url.path))
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"detail": "Invalid token"}, 401)
            if self.throttle_next > 0:
                self.throttle_next -= 1
                return JSONResponse({"detail": "rate limited"}, 429, headers={"Retry-After": "1"})
            return await call_next(request)

        async def text_of(request: Request) -> str | JSONResponse:
            if request.headers.get("content-type", "").split(";")[0] != "application/json":
                return JSONResponse({"detail": "Unsupported media type"}, 415)
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"].strip():
                return JSONResponse({"text": ["This field is required."]}, 400)
            return body["text"]

        @app.post("/api/0/issues/{issue_id}/comments/")
        async def create(issue_id: str, request: Request) -> JSONResponse:
            text = await text_of(request)
            if isinstance(text, JSONResponse):
                return text
            notes = self.notes.setdefault(issue_id, [])
            if any(n["data"]["text"] == text for n in notes):
                return JSONResponse('{"detail": "You have already posted that comment."}', 400)
            note = {"id": str(next(self._ids)), "type": "note", "data": {"text": text},
                    "dateCreated": datetime.now(UTC).isoformat(), "user": {"id": "opsbot"}}
            notes.insert(0, note)
            return JSONResponse(note, 201)

        @app.put("/api/0/issues/{issue_id}/comments/{note_id}/")
        async def update(issue_id: str, note_id: str, request: Request) -> JSONResponse:
            text = await text_of(request)
            if isinstance(text, JSONResponse):
                return text
            for note in self.notes.get(issue_id, []):
                if note["id"] == note_id:
                    note["data"]["text"] = text
                    return JSONResponse(note, 200)
            return JSONResponse({"detail": "The requested resource does not exist"}, 404)

        @app.get("/api/0/issues/{issue_id}/comments/")
        async def listing(issue_id: str) -> JSONResponse:
            return JSONResponse(self.notes.get(issue_id, []), 200)

        return app
