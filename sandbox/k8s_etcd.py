"""Creation times written into the real cluster's etcd, where the API server keeps its objects.

`creationTimestamp` is the API server's to set: a client's value is dropped on create and kept from the stored
object on every update. A cluster restored from an etcd snapshot keeps each object's, because the API server
serves what etcd holds; `set_created` does what such a restore does for one object: it reads the object from etcd
(the API server's protobuf encoding: `k8s\\x00` and a runtime.Unknown wrapping the object), sets
ObjectMeta.creationTimestamp in it and writes it back, only if nobody wrote it meanwhile. The API server's watch
on etcd sees the write like any other, so its cache, the controllers and kube-state-metrics see the time too.
Only the sandbox's copy of a scenario uses it (sandbox/k8s_copy.py), never opsbot.
"""

from __future__ import annotations

import base64
from datetime import datetime

import httpx

PREFIX = b"k8s\x00"
# where the API server stores a resource when it is not /registry/<plural>/[<namespace>/]<name>
STORED_AS = {"services": "services/specs", "endpoints": "services/endpoints", "nodes": "minions"}
_UNKNOWN_RAW, _OBJECT_META, _CREATED, _SECONDS = 2, 1, 8, 1  # protobuf field numbers along the way
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class EtcdError(Exception):
    """etcd did not hold the object, or it changed while its creation time was set."""


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        b = buf[i]
        n |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return n, i
        shift += 7


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _fields(buf: bytes) -> list[tuple[int, int, int | bytes]]:
    """A protobuf message's fields in order: (number, wire type, value: an int for a varint, else the bytes)."""
    out: list[tuple[int, int, int | bytes]] = []
    i = 0
    while i < len(buf):
        tag, i = _read_varint(buf, i)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == _VARINT:
            value, i = _read_varint(buf, i)
        elif wire == _BYTES:
            size, i = _read_varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            value, i = buf[i:i + size], i + size
        else:
            raise EtcdError(f"unexpected protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _message(fields: list[tuple[int, int, int | bytes]]) -> bytes:
    out = bytearray()
    for number, wire, value in fields:
        out += _varint(number << 3 | wire)
        if wire == _VARINT:
            out += _varint(int(value))
        elif wire == _BYTES:
            out += _varint(len(value)) + bytes(value)  # type: ignore[arg-type]
        else:
            out += bytes(value)  # type: ignore[arg-type]
    return bytes(out)


def _replace(fields: list[tuple[int, int, int | bytes]], number: int, value: bytes) -> list:
    """The message's fields with field `number` (a message) set to `value`, in field order."""
    kept = [f for f in fields if f[0] != number]
    at = next((i for i, f in enumerate(kept) if f[0] > number), len(kept))
    return [*kept[:at], (number, _BYTES, value), *kept[at:]]


def with_created(stored: bytes, when: datetime) -> bytes:
    """An object as etcd stores it, with its creationTimestamp set to `when` (whole seconds, as the API stores)."""
    if not stored.startswith(PREFIX):
        raise EtcdError("not an object in the API server's protobuf encoding")
    unknown = _fields(stored[len(PREFIX):])
    raw = next(v for n, w, v in unknown if n == _UNKNOWN_RAW)
    obj = _fields(bytes(raw))  # type: ignore[arg-type]
    meta = _fields(bytes(next(v for n, w, v in obj if n == _OBJECT_META)))  # type: ignore[arg-type]
    created = _message([(_SECONDS, _VARINT, int(when.timestamp()))])
    obj = _replace(obj, _OBJECT_META, _message(_replace(meta, _CREATED, created)))
    return PREFIX + _message(_replace(unknown, _UNKNOWN_RAW, _message(obj)))


def key(plural: str, namespace: str | None, name: str) -> str:
    return "/".join(["/registry", STORED_AS.get(plural, plural), *([namespace] if namespace else []), name])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def set_created(etcd_url: str, plural: str, namespace: str | None, name: str, when: datetime) -> None:
    """Set one stored object's creationTimestamp (etcd's JSON gateway, `/v3/kv/…`), unless it changed meanwhile."""
    k = _b64(key(plural, namespace, name).encode())
    with httpx.Client(base_url=etcd_url, timeout=10) as etcd:
        found = etcd.post("/v3/kv/range", json={"key": k}).raise_for_status().json().get("kvs")
        if not found:
            raise EtcdError(f"etcd holds no {key(plural, namespace, name)}")
        value = with_created(base64.b64decode(found[0]["value"]), when)
        done = etcd.post("/v3/kv/txn", json={
            "compare": [{"key": k, "target": "MOD", "mod_revision": found[0]["mod_revision"]}],
            "success": [{"request_put": {"key": k, "value": _b64(value)}}]}).raise_for_status().json()
    if not done.get("succeeded"):
        raise EtcdError(f"{key(plural, namespace, name)} changed while its creation time was set")
