"""A fake of Slack's Web API on loopback: records every call, keeps the messages, checks what Slack checks.

Checks (docs.slack.dev): the bot token in `Authorization: Bearer`, required fields per method, at most 50
blocks (per message and per attachment), section text ≤ 3,000, section fields ≤ 10 of ≤ 2,000, header text
≤ 150, button text ≤ 75, value ≤ 2,000, action_id and block_id ≤ 255, message text ≤ 4,000 (msg_too_long),
all the text of a message's blocks ≤ 12,000 (msg_blocks_too_long). Files upload v2: getUploadURLExternal
needs a filename and a length > 0 and answers an upload URL on this server; the POST there must carry exactly
that many bytes; completeUploadExternal takes only uploaded file ids, and a thread_ts of a message in
channel_id. Errors come back as Slack sends them:
HTTP 200 with `{"ok": false, "error": ...}`; with `ratelimit` set, HTTP 429 `ratelimited` with Retry-After.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.support.calls import Call, CallLog

BOT_USER, BOT_ID, TEAM = "U0OPSBOT", "B0OPSBOT", "T0SHOP"
REQUIRED = {
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "chat.postEphemeral": ("channel", "user"),
    "chat.delete": ("channel", "ts"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}
PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Upload:
    """A file of files upload v2: declared, then its bytes, then shared (completed) in a channel or thread."""

    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None


@dataclass
class FakeSlack(CallLog):
    token: str = "xoxb-test-token"
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)
    ratelimit: int = 0  # the next this many chat.* calls are answered 429 ratelimited, Retry-After: 1
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- what tests read -------------------------------------------------------------------------------

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self._lock:
            return self.messages[channel, ts]

    def shared(self, channel: str, thread_ts: str) -> list[Upload]:
        """The files completed into a message's thread."""
        with self._lock:
            return [f for f in self.files.values() if (f.channel, f.thread_ts) == (channel, thread_ts)]

    # -- the server --------------------------------------------------------------------------------------

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/healthz")
        def healthz() -> dict[str, bool]:
            return {"ok": True}

        @api.post("/api/{method}")
        async def call(method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            kind = request.headers.get("content-type", "")
            if raw and kind.startswith("application/json"):
                args = json.loads(raw)
            else:
                args = dict(parse_qsl(raw.decode()))
                for k in ("blocks", "attachments", "files"):
                    if isinstance(args.get(k), str):
                        args[k] = json.loads(args[k])
            auth = request.headers.get("authorization", "")
            if self._limited(method):
                with self._lock:
                    self.calls.append(Call(method, args, "ratelimited", {"ok": False, "error": "ratelimited"}))
                    self._lock.notify_all()
                return JSONResponse({"ok": False, "error": "ratelimited"}, 429, headers={"Retry-After": "1"})
            return JSONResponse(self._answer(method, args, auth, str(request.base_url)))

        @api.post("/upload/{file_id}")
        async def upload(file_id: str, request: Request) -> PlainTextResponse:
            raw = await request.body()
            with self._lock:
                f = self.files.get(file_id)
                error = "file_not_found" if f is None else None
                if f is not None and len(raw) != f.length:
                    error = f"{len(raw)} bytes sent, {f.length} declared"
                elif f is not None:
                    f.data = raw
                self.calls.append(Call("upload", {"file_id": file_id, "bytes": len(raw)}, error))
                self._lock.notify_all()
            return PlainTextResponse(error or f"OK - {len(raw)}", 400 if error else 200)

        return api

    def _limited(self, method: str) -> bool:
        """The next `ratelimit` calls of chat.* methods get HTTP 429, as Slack's rate limits answer."""
        with self._lock:
            if self.ratelimit and method.startswith("chat."):
                self.ratelimit -= 1
                return True
        return False

    def _answer(self, method: str, args: dict[str, Any], auth: str, root: str) -> dict[str, Any]:
        error = None
        if not auth.startswith("Bearer "):
            error = "not_authed"
        elif auth.removeprefix("Bearer ") != self.token:
            error = "invalid_auth"
        else:
            error = self._check(method, args)
        result: dict[str, Any] = {"ok": error is None}
        with self._lock:
            if error is None:
                result.update(self._apply(method, args, root))
            else:
                result["error"] = error
            self.calls.append(Call(method, args, error, result))
            self._lock.notify_all()
        return result

    def _check(self, method: str, args: dict[str, Any]) -> str | None:
        if method == "auth.test":
            return None
        if method not in REQUIRED:
            return "unknown_method"
        missing = [k for k in REQUIRED[method] if not args.get(k)]
        if missing:
            return "channel_not_found" if "channel" in missing else f"invalid_arguments: missing {missing}"
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            if not any(args.get(k) for k in ("text", "blocks", "attachments")):
                return "no_text"
            if len(str(args.get("text") or "")) > 4_000:
                return "msg_too_long"
            groups = [args.get("blocks") or []] + [a.get("blocks") or [] for a in args.get("attachments") or []]
            if sum(blocks_text(blocks) for blocks in groups) > 12_000:
                return "msg_blocks_too_long"
            if method == "chat.update" and (args["channel"], args["ts"]) not in self.messages:
                return "message_not_found"
            groups = [args.get("blocks") or []] + [a.get("blocks") or [] for a in args.get("attachments") or []]
            for blocks in groups:
                problem = check_blocks(blocks)
                if problem:
                    return f"invalid_blocks: {problem}"
        if method == "chat.delete" and (args["channel"], args["ts"]) not in self.messages:
            return "message_not_found"
        if method == "files.getUploadURLExternal" and not (str(args["length"]).isdigit() and int(args["length"])):
            return "missing_argument"  # Slack's answer to a length of 0
        if method == "files.completeUploadExternal":
            return self._check_complete(args)
        return None

    def _check_complete(self, args: dict[str, Any]) -> str | None:
        for f in args["files"]:
            known = self.files.get(f.get("id", ""))
            if known is None or known.data is None or known.channel:
                return "file_not_found"  # never declared, its bytes never sent, or already shared
        if args.get("thread_ts") and (args.get("channel_id"), args["thread_ts"]) not in self.messages:
            return "invalid_thread_ts"  # a thread is named by its parent message, in that channel
        return None

    def _apply(self, method: str, args: dict[str, Any], root: str) -> dict[str, Any]:
        if method == "auth.test":
            return {"url": "https://shop.slack.com/", "team": "shop", "user": "opsbot", "team_id": TEAM,
                    "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._seq):06d}"
            msg = {**args, "ts": ts, "bot_id": BOT_ID}
            self.messages[args["channel"], ts] = msg
            return {"channel": args["channel"], "ts": ts, "message": msg}
        if method == "chat.update":
            msg = self.messages[args["channel"], args["ts"]]
            for k in ("text", "blocks", "attachments"):
                msg[k] = args.get(k)
            msg["edited"] = msg.get("edited", 0) + 1
            return {"channel": args["channel"], "ts": args["ts"], "text": args.get("text", "")}
        if method == "chat.postEphemeral":
            return {"message_ts": f"{int(time.time())}.{next(self._seq):06d}"}
        if method == "chat.delete":
            del self.messages[args["channel"], args["ts"]]
            return {"channel": args["channel"], "ts": args["ts"]}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._seq):08d}"
            self.files[file_id] = Upload(args["filename"], int(args["length"]))
            return {"upload_url": f"{root}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            shared = []
            for f in args["files"]:
                upload = self.files[f["id"]]
                upload.title, upload.channel = f.get("title"), args.get("channel_id") or "private"
                upload.thread_ts = args.get("thread_ts")
                mime = "image/png" if (upload.data or b"").startswith(PNG) else "application/octet-stream"
                shared.append({"id": f["id"], "name": upload.filename, "title": upload.title, "mimetype": mime,
                               "size": upload.length})
            return {"files": shared}
        return {}


def blocks_text(blocks: list[dict[str, Any]]) -> int:
    """The characters of text in blocks (sections, fields, headers, context elements, buttons)."""
    n = 0
    for b in blocks:
        n += len(_text_of(b.get("text"))) + sum(len(_text_of(f)) for f in b.get("fields") or [])
        for e in b.get("elements") or []:
            n += len(e["text"]) if isinstance(e.get("text"), str) else len(_text_of(e.get("text")))
    return n


def _text_of(obj: dict[str, Any] | None) -> str:
    return (obj or {}).get("text", "") or ""


def check_blocks(blocks: list[dict[str, Any]]) -> str | None:
    """What Slack's block validation rejects (the limits opsbot can hit), as a short reason, or None."""
    if len(blocks) > 50:
        return f"{len(blocks)} blocks (at most 50)"
    for i, b in enumerate(blocks):
        if len(b.get("block_id", "")) > 255:
            return f"blocks[{i}].block_id longer than 255"
        kind = b.get("type")
        if kind == "section":
            if "text" not in b and "fields" not in b:
                return f"blocks[{i}]: a section needs text or fields"
            if len(_text_of(b.get("text"))) > 3000:
                return f"blocks[{i}].text longer than 3000"
            fields = b.get("fields") or []
            if len(fields) > 10 or any(len(_text_of(f)) > 2000 for f in fields):
                return f"blocks[{i}].fields: at most 10 of at most 2000 characters"
        elif kind == "header":
            if len(_text_of(b.get("text"))) > 150:
                return f"blocks[{i}].text longer than 150"
        elif kind == "context":
            if len(b.get("elements") or []) > 10:
                return f"blocks[{i}].elements: at most 10"
        elif kind == "actions":
            elements = b.get("elements") or []
            if not elements or len(elements) > 25:
                return f"blocks[{i}].elements: 1 to 25"
            for j, e in enumerate(elements):
                if e.get("type") == "button":
                    if not 1 <= len(_text_of(e.get("text"))) <= 75:
                        return f"blocks[{i}].elements[{j}].text: 1 to 75 characters"
                    if len(e.get("value", "")) > 2000:
                        return f"blocks[{i}].elements[{j}].value longer than 2000"
                    if len(e.get("action_id", "")) > 255:
                        return f"blocks[{i}].elements[{j}].action_id longer than 255"
        elif kind not in ("divider", "image", "rich_text", "input", "file", "video"):
            return f"blocks[{i}]: unknown block type {kind!r}"
    return None
