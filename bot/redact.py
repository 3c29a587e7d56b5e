"""Masking secrets before text reaches the model, the chat or the logs.

Patterns, not a secret scanner: known token shapes, credentials in URLs and headers, PEM keys, JWTs, and
values under secret-named keys in key=value, JSON and YAML forms. A value under a looser key (`key`,
`signature`, `session`…) is masked only when it looks random. What is masked keeps its key or scheme, so
the reader still sees that a credential was there.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

MASK = "[REDACTED]"

# A key that names a secret: it must END with one of these words (db_password, GITHUB_TOKEN, x-api-key),
# so max_tokens, secretName or token_count are left alone.
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key"
    r"|client[_-]?secret|secret[_-]?key|credentials?|auth[_-]?token|session[_-]?token|bearer"
)
_LOOSE_WORDS = r"key|signature|sig|session|cookie|auth|salt"
_KEY = r"[A-Za-z0-9_.-]*?(?:{words})"
_VALUE = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',;&}\]]+)"""


def _pair(words: str) -> re.Pattern[str]:
    # key, optional closing quote, separator (= : or ": "), optional spaces, value
    return re.compile(
        rf"""(?P<key>(?<![A-Za-z0-9_]){_KEY.format(words=words)})(?![A-Za-z0-9_])(?P<sep>["']?\s*[:=]\s*)"""
        rf"(?P<value>{_VALUE})",
        re.IGNORECASE,
    )


_SECRET_PAIR = _pair(_SECRET_WORDS)
_LOOSE_PAIR = _pair(_LOOSE_WORDS)
_CLI_FLAG = re.compile(r"(--(?:password|token|secret|api-key)(?:=|\s+))(\S+)", re.IGNORECASE)

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|$)", re.DOTALL)
_AUTH_HEADER = re.compile(
    r"\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(bearer|basic|token|digest|apikey)?(\s*)[^\s\"',;]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^\s:/@'\"]*):([^\s@/'\"]+)@", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_TOKENS = re.compile(
    "|".join(
        (
            r"\bxox[abposre]-[A-Za-z0-9-]{10,}",  # Slack bot/user/app-level tokens
            r"\bxapp-\d-[A-Za-z0-9-]{10,}",
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
            r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic
            r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bAIza[0-9A-Za-z_-]{35}",  # Google API keys
            r"\bsntry[su]_[A-Za-z0-9_=+/-]{20,}",  # Sentry
            r"\bnpm_[A-Za-z0-9]{36}",
            r"\bhooks\.slack\.com/services/[A-Za-z0-9/]+",
        )
    )
)
_HARMLESS = re.compile(r"^(?:null|none|true|false|\*+|\[REDACTED[^\]]*\]|<[^>]*>|\$\{[^}]*\}|\$[A-Z_]+)$", re.I)


def looks_random(value: str) -> bool:
    """Long, mixed letters and digits, high Shannon entropy: an api key rather than a word or a name."""
    if len(value) < 16 or not re.search(r"\d", value) or not re.search(r"[A-Za-z]", value):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


def _unquote(value: str) -> tuple[str, str]:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[0], value[1:-1]
    return "", value


def _mask_pair(random_only: bool) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        quote, inner = _unquote(m["value"])
        if not inner or _HARMLESS.match(inner) or (random_only and not looks_random(inner)):
            return m.group(0)
        return f"{m['key']}{m['sep']}{quote}{MASK}{quote}"

    return replace


def redact(text: str) -> str:
    """The text with every recognised secret replaced by [REDACTED] (keys, schemes and users kept)."""
    if not text:
        return text
    text = _PEM.sub("[REDACTED private key]", text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m[1]}{m[2]}:{MASK}@", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m[1]}{m[2] or ''}{m[3] if m[2] else ''}{MASK}", text)
    text = _BEARER.sub(lambda m: MASK if m[0].endswith(MASK) else f"{m[1]}{m[2]}{MASK}", text)
    text = _JWT.sub("[REDACTED jwt]", text)
    text = _TOKENS.sub(MASK, text)
    text = _CLI_FLAG.sub(lambda m: f"{m[1]}{MASK}", text)
    text = _SECRET_PAIR.sub(_mask_pair(random_only=False), text)
    return _LOOSE_PAIR.sub(_mask_pair(random_only=True), text)


_SECRET_KEY = re.compile(rf"(?:^|[_.-])(?:{_SECRET_WORDS})$|^(?:{_SECRET_WORDS})$", re.IGNORECASE)


def secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) or key.lower() in ("authorization", "cookie", "set-cookie")


def redact_data(data: Any) -> Any:
    """The same structure with secret-named keys' values masked and every string redacted."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, Mapping):
        return {k: (MASK if isinstance(k, str) and secret_key(k) and v not in (None, "") else redact_data(v))
                for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(v) for v in data]
    return data


def structlog_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: every event is redacted before it is rendered."""
    return redact_data(event_dict)
