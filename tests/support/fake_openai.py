"""A local OpenAI-compatible chat.completions server for tests: it checks what the real API checks (bearer
key, model, message and tool shapes, tool results answering earlier tool calls, JSON mode naming JSON),
records every request body and answers from a script. `hang` makes it wait (server-side, on an event) so
the client times out."""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from bot.settings import Settings

Reply = dict[str, Any] | str | Callable[[dict[str, Any]], dict[str, Any]]
ROLES = {"system", "developer", "user", "assistant", "tool"}
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def tool_call(name: str, **args: Any) -> dict[str, Any]:
    return {"tool_calls": [(name, args)]}


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status)


def _shape_problem(body: dict[str, Any]) -> str | None:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        return "'messages' must be a non-empty array"
    open_calls: set[str] = set()
    for i, m in enumerate(msgs):
        if m.get("role") not in ROLES:
            return f"messages[{i}].role must be one of {sorted(ROLES)}"
        if m["role"] == "assistant":
            for c in m.get("tool_calls") or []:
                if c.get("type") != "function" or not isinstance(c.get("function", {}).get("arguments"), str):
                    return f"messages[{i}].tool_calls: each needs type 'function' and string arguments"
                json.loads(c["function"]["arguments"])
                open_calls.add(c["id"])
        elif m["role"] == "tool":
            if m.get("tool_call_id") not in open_calls:
                return f"messages[{i}]: a 'tool' message must answer a preceding assistant tool_call"
            if not isinstance(m.get("content"), str):
                return f"messages[{i}].content must be a string"
        elif not isinstance(m.get("content"), str):
            return f"messages[{i}].content must be a string"
    fmt = (body.get("response_format") or {}).get("type", "text")
    if fmt not in ("text", "json_object", "json_schema"):
        return f"response_format.type must be 'text', 'json_object' or 'json_schema', not {fmt!r}"
    if fmt == "json_object" and not any("json" in str(m.get("content", "")).lower() for m in msgs):
        return "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'."
    for i, t in enumerate(body.get("tools") or []):
        f = t.get("function", {})
        if t.get("type") != "function" or not NAME.match(f.get("name", "")):
            return f"tools[{i}]: type must be 'function' and function.name match {NAME.pattern}"
        if f.get("parameters", {}).get("type") != "object":
            return f"tools[{i}].function.parameters must be a JSON schema of type 'object'"
    return None


class FakeOpenAI:
    def __init__(self, key: str, model: str):
        self.key, self.model = key, model
        self.script: list[Reply] = []
        self.bodies: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.release = threading.Event()
        self.ids = itertools.count(1)
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)
        self.app.get("/v1/models")(self._models)

    def _models(self, request: Request) -> Any:
        """GET /v1/models as OpenAI answers it: the key checked, then the models it serves."""
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        return {"object": "list", "data": [{"id": self.model, "object": "model", "created": 1_700_000_000,
                                            "owned_by": "system"}]}

    def _complete(self, request: Request, body: dict[str, Any]) -> Any:  # sync: runs in the threadpool
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        self.bodies.append(body)
        self.raw.append(json.dumps(body).encode())
        if body.get("model") != self.model:
            return _error(404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
        if problem := _shape_problem(body):
            return _error(400, problem)
        if not self.script:
            return _error(500, "the fake has no scripted reply left", "server_error")
        reply = self.script.pop(0)
        if reply == "hang":
            self.script.insert(0, "hang")  # every retry hangs too
            self.release.wait(30)
            return _error(503, "released")
        if callable(reply):
            reply = reply(body)
        return self._completion(reply if isinstance(reply, dict) else {"content": reply})

    def _completion(self, reply: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if reply.get("tool_calls"):
            message["tool_calls"] = [
                {"id": f"call_{next(self.ids)}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for name, args in reply["tool_calls"]]
        return {
            "id": f"chatcmpl-{next(self.ids)}", "object": "chat.completion", "created": 1_700_000_000,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if reply.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


@contextmanager
def serve(fake: FakeOpenAI) -> Iterator[str]:
    """Run the fake on a loopback port; the socket is bound before the server starts, so no readiness wait."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(fake.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        fake.release.set()
        server.should_exit = True
        thread.join(10)
        sock.close()


KEY, MODEL = "sk-test-0123456789abcdefghij", "opsbot-test-model"


def llm_settings(settings: Settings, url: str, key: str = KEY, **extra: Any) -> Settings:
    """The settings with the model pointed at a fake served at `url`."""
    llm = settings.llm.model_copy(update={"base_url": url, "model": MODEL, "api_key": SecretStr(key), **extra})
    return settings.model_copy(update={"llm": llm})
