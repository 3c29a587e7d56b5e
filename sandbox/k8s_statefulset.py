"""The revision name kube-controller-manager's StatefulSet controller gives a StatefulSet's current template.

The controller labels each pod `controller-revision-hash: <set>-<hash>` and replaces a pod whose label is not its
update revision's name. It names the revision from the ControllerRevision's data: the set's pod template as a
JSON patch (`{"spec": {"template": {..., "$patch": "replace"}}}`, encoded as Go's encoding/json writes a map:
keys sorted, no spaces, `<`, `>` and `&` escaped), hashed with 32-bit FNV-1 followed by the collision count in
base 32, the decimal digits of the hash mapped onto Kubernetes' safe alphabet. A copied StatefulSet's pods carry
that name, so the controller keeps them (sandbox/k8s_copy.py).
"""

from __future__ import annotations

import json
from typing import Any

_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand's alphanums
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


def _fnv1_32(data: bytes) -> int:
    h = _FNV_OFFSET
    for byte in data:
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
        h ^= byte
    return h


def _base32(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuv"
    out = ""
    while True:
        n, d = divmod(n, 32)
        out = digits[d] + out
        if not n:
            return out


def _go_json(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text.encode()


def revision_name(statefulset: dict[str, Any]) -> str:
    """The name of the ControllerRevision the controller makes for `statefulset` (as the API server returns it)."""
    template = {**statefulset["spec"]["template"], "$patch": "replace"}
    collisions = (statefulset.get("status") or {}).get("collisionCount") or 0
    digest = _fnv1_32(_go_json({"spec": {"template": template}}) + _base32(collisions).encode())
    return f"{statefulset['metadata']['name'][:223]}-{''.join(_SAFE[ord(c) % len(_SAFE)] for c in str(digest))}"
