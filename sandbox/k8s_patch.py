"""The three PATCH flavours the API server accepts, reduced to what opsbot and kubectl send."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s_objects import ApiError

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


def apply(obj: dict[str, Any], body: Any, content_type: str) -> dict[str, Any]:
    kind = content_type.split(";")[0].strip().lower()
    if kind == JSON_PATCH:
        if not isinstance(body, list):
            raise ApiError(400, "BadRequest", "a JSON patch is a list of operations")
        return json_patch(obj, body)
    if kind in (MERGE_PATCH, STRATEGIC):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "a merge patch is a JSON object")
        return merge(obj, body, strategic=kind == STRATEGIC)
    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                   f"accepted media types include: {JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC}")


def merge(target: Any, patch: Any, strategic: bool) -> Any:
    """RFC 7386 merge (null deletes); strategic merge also merges lists of named items by name."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        elif strategic and _named_list(value) and _named_list(out.get(key)):
            by_name = {item["name"]: item for item in out[key]}
            merged = [merge(by_name.get(item["name"], {}), item, strategic) for item in value]
            patched = {item["name"] for item in value}
            out[key] = [*merged, *(item for item in out[key] if item["name"] not in patched)]
        else:
            out[key] = merge(out.get(key), value, strategic)
    return out


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add / replace / remove / test."""
    doc = copy.deepcopy(obj)
    for op in ops:
        path = [p.replace("~1", "/").replace("~0", "~") for p in str(op.get("path", "")).split("/")[1:]]
        if not path:
            raise ApiError(422, "Invalid", f"unsupported JSON patch path {op.get('path')!r}")
        parent = doc
        for part in path[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last, kind = path[-1], op.get("op")
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                parent[idx: idx + (kind == "replace")] = [op.get("value")]
            else:
                parent[last] = op.get("value")
        elif kind == "remove":
            if isinstance(parent, list):
                parent.pop(int(last))
            elif parent.pop(last, KeyError) is KeyError:
                raise ApiError(422, "Invalid", f"the path {op['path']!r} does not exist")
        elif kind == "test":
            here = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if here != op.get("value"):
                raise ApiError(422, "Invalid", f"test failed at {op['path']!r}")
        else:
            raise ApiError(422, "Invalid", f"unsupported JSON patch operation {kind!r}")
    return doc
