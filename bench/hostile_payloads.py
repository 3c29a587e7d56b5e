"""Generated hostile request bodies, from a seeded random source, for every endpoint opsbot serves.

Shared by the hostile-input tests (hypothesis drives the random source) and bench/hostile_input.py (a seed).
Each body starts from a valid delivery of the endpoint and breaks it in one of the ways attackers and buggy
senders do: random bytes, truncation, deep nesting, huge or non-finite numbers, lone surrogates, invalid
UTF-8, type confusion in a field, random JSON of another shape, a body at or over the size limit.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

Mutation = Callable[[random.Random, bytes], bytes]
MAX_BODY = 1_000_000  # the default webhooks.max_body_bytes; tests pass their own


def random_json(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rnd.choice([True, False])
    if kind == 2:
        return rnd.choice([0, -1, 2**31, 2**63, -(2**64), 10**30])
    if kind == 3:
        return rnd.choice([0.5, -1e308, 1e-320, 3.14])
    if kind == 4:
        return "".join(chr(rnd.choice([rnd.randrange(32, 127), rnd.randrange(0x80, 0xD7FF),
                                       rnd.randrange(0xE000, 0x10FFFF)])) for _ in range(rnd.randrange(12)))
    if kind == 5:
        return rnd.choice(["", " ", "firing", "resolved", "4", "0001-01-01T00:00:00Z", "<script>", "../../etc"])
    if kind in (6, 7):
        return [random_json(rnd, depth + 1) for _ in range(rnd.randrange(4))]
    return {rnd.choice(["status", "labels", "alerts", "data", "action", "version", "event_id", "update_id",
                        "message", "type", "x"]): random_json(rnd, depth + 1) for _ in range(rnd.randrange(5))}


def _replace_field(rnd: random.Random, valid: bytes) -> bytes:
    """Type confusion: one key anywhere in the valid body gets a random JSON value."""
    data = json.loads(valid)
    node, path = data, []
    while isinstance(node, (dict, list)) and node and rnd.random() < 0.7:
        key = rnd.choice(list(node)) if isinstance(node, dict) else rnd.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = random_json(rnd)
    else:
        data = random_json(rnd)
    return json.dumps(data, ensure_ascii=rnd.random() < 0.5).encode("utf-8", "surrogatepass")


def _lone_surrogate(rnd: random.Random, valid: bytes) -> bytes:
    at = valid.find(b'"', rnd.randrange(max(len(valid) - 1, 1)))
    at = at if at > 0 else valid.find(b'"')
    escape = rnd.choice([b"\\ud800", b"\\udfff", b"\\udc00x", b"\\ud83d"])
    return valid[: at + 1] + escape + valid[at + 1:]


MUTATIONS: dict[str, Mutation] = {
    "random bytes": lambda rnd, v: rnd.randbytes(rnd.randrange(0, 2048)),
    "truncated": lambda rnd, v: v[: rnd.randrange(len(v))],
    "deep arrays": lambda rnd, v: b"[" * rnd.randrange(33, 100_000),
    "deep objects": lambda rnd, v: b'{"a":' * rnd.randrange(33, 5_000) + b"1" + b"}" * rnd.randrange(0, 40),
    "huge integer": lambda rnd, v: v.replace(b'"4"', b"9" * rnd.randrange(41, 20_000), 1)
    if b'"4"' in v else b'{"n": ' + b"9" * rnd.randrange(41, 20_000) + b"}",
    "non-finite": lambda rnd, v: b'{"version": "4", "n": ' + rnd.choice([b"NaN", b"Infinity", b"-Infinity",
                                                                          b"1e999", b"-1e400"]) + b"}",
    "lone surrogate": _lone_surrogate,
    "invalid utf-8": lambda rnd, v: v[:10] + rnd.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]) + v[10:],
    "utf-16": lambda rnd, v: v.decode().encode("utf-16"),
    "type confusion": _replace_field,
    "other shape": lambda rnd, v: json.dumps(random_json(rnd)).encode(),
    "empty": lambda rnd, v: rnd.choice([b"", b" ", b"\n\t", b"null", b"[]", b"{}", b'""', b"0"]),
}


def hostile_body(rnd: random.Random, valid: bytes, limit: int = MAX_BODY) -> tuple[str, bytes]:
    """One hostile body made from `valid`, and the name of the mutation; "oversized" passes `limit`."""
    kind = rnd.choice([*sorted(MUTATIONS), "oversized"])
    if kind == "oversized":
        return kind, b'{"pad": "' + b"x" * (limit + rnd.randrange(1, 1000)) + b'"}'
    return kind, MUTATIONS[kind](rnd, valid)
