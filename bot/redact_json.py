"""Whether a JSON body can hold anything `redact_data` would mask, from one search of its text instead of a
Python walk over every value: the webhooks' hot path stores most bodies as sent.

Sound by construction. A value is masked only where `redact` finds a word or shape of its gate in it (the
gate's words are plain text, its shapes have no edges, so a quote beside a value is as good as the end of a
text), as an argv item starting with "-", or in a key block (BEGIN, Private-Lines, words the gate holds); a key
only where `secret_key` names it, and every such name holds a word of the gate. So the gate is searched over
the whole text, keys and all, with the escapes that could hide a letter decoded (`\\u0070assword`,
`1\\/\\/0`); the others (`\\"`, `\\n`…) stand for characters no gate word holds. A body that holds such a word
only in a key the caller names as plain (Alertmanager's "groupKey") is cleared past it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2

from bot.redact import GATE, secret_key

_HIDING = re.compile(r"\\[u/]")  # an escape that could hide a letter or a slash of a gate word
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))")  # left to right, so `\\u0070` stays a backslash and text


def _letter(m: re.Match[str]) -> str:
    if m[1]:
        return chr(int(m[1], 16))
    return "/" if m[2] == "/" else m[0]


@functools.lru_cache(maxsize=8)
def _gate(also: str) -> Any:
    """redact's gate, an argv item (a list item that starts with "-": its opening quote is never escaped), and
    the caller's own pattern, in one RE2 pattern: one pass over the text."""
    return re2.compile("|".join(filter(None, (GATE, '"-', also))))


def may_mask(text: str, plain_keys: tuple[str, ...] = (), also: str = "") -> bool:
    """False only when `redact_data(json.loads(text))` is certain to equal `json.loads(text)`; `text` must be
    valid JSON. `plain_keys`: key names that are not secrets (`secret_key` agrees) though they hold a gate word.
    `also`: a pattern whose match answers True too (a caller's own reason to read a body the careful way, found
    in the same pass; it sees the text with the escapes that could hide a letter decoded)."""
    for key in plain_keys:
        if not secret_key(key):
            text = text.replace(f'"{key}":', '"":')  # an unescaped quote, key, quote, colon is only ever a key
    if _HIDING.search(text):
        text = _ESCAPE.sub(_letter, text)
    return not text.isascii() or _gate(also).search(text) is not None
