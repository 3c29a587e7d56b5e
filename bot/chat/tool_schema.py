"""The argument schema a model sees: the tool's Args model's JSON schema, without what only costs tokens.

The door validates every call against the full Args model and answers a mistake with an exact message, so
the model's copy can drop titles, string length limits and the `anyOf [..., null]` of optional fields
(optional = not required). Types, enums, numeric bounds, defaults and descriptions stay.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tools.base import Tool

_DROPPED = {"title", "minLength", "maxLength"}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return _inline({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _compact(prop: dict[str, Any]) -> dict[str, Any]:
    prop = dict(prop)
    options = prop.get("anyOf")
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            del prop["anyOf"]
            prop = {**kept[0], **prop}
    if prop.get("default", "") is None:
        del prop["default"]
    out = {k: v for k, v in prop.items() if k not in _DROPPED}
    if "anyOf" in out:
        out["anyOf"] = [_compact(o) for o in out["anyOf"]]
    if isinstance(out.get("items"), dict):
        out["items"] = _compact(out["items"])
    if "description" in out:
        out["description"] = " ".join(out["description"].split())
    return out


def model_schema(args: type[BaseModel], hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """The compact JSON schema of an Args model, as the model is shown it, without the optional arguments
    `hide` names (a `cluster` argument when there is one cluster)."""
    raw = args.model_json_schema()
    full = _inline({k: v for k, v in raw.items() if k != "$defs"}, raw.get("$defs", {}))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _compact(p) for name, p in full.get("properties", {}).items() if name not in hide},
    }
    if full.get("required"):
        schema["required"] = full["required"]
    return schema


def description(doc: str) -> str:
    """A tool's docstring on one line."""
    return " ".join(doc.split())


def openai_tool(t: Tool, hide: tuple[str, ...] = ()) -> dict[str, Any]:
    """A tool as the chat.completions API offers it to the model."""
    return {"type": "function", "function": {"name": t.name, "description": description(t.description),
                                             "parameters": model_schema(t.args, hide)}}
