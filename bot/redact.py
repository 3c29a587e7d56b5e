"""Masking secrets before text reaches the model, the chat or the logs.

Patterns, not a secret scanner: known token shapes, credentials in URLs and headers, PEM keys, JWTs, and
values under secret-named keys in key=value, JSON and YAML forms. A value under a looser key (`key`,
`signature`, `session`…) is masked only when it looks random. What is masked keeps its key or scheme, so
the reader still sees that a credential was there.
"""

from __future__ import annotations

import logging
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
            r"(?<![\d:])\d{8,10}:[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])",  # Telegram bot tokens, also in bot URLs
            r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b",  # SendGrid
            r"\b(?:SK|AC)[0-9a-f]{32}\b",  # Twilio API key / account SID
            r"\b[MNO][A-Za-z0-9]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b",  # Discord bot tokens
            r"\b[0-9a-f]{32}-us[0-9]{1,2}\b",  # Mailchimp
            r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",  # PyPI upload tokens
            r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b",  # Shopify
            r"\bdop_v1_[a-f0-9]{64}\b",  # DigitalOcean
            r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
            r"\bAccountKey=[A-Za-z0-9+/=]{40,}",  # Azure storage connection strings
            r"\bsq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}",  # Square
            r"\blin_api_[A-Za-z0-9]{40}",  # Linear
            r"\bATATT3[A-Za-z0-9_=-]{60,}",  # Atlassian API tokens
            r"\bdapi[a-f0-9]{32}(?:-\d)?\b",  # Databricks
            r"\bdp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_.-]{40,}",  # Doppler
            r"\bgl(?:sa|c)_[A-Za-z0-9_=+/-]{32,}",  # Grafana service-account and cloud tokens
            r"\bNRAK-[A-Z0-9]{27}\b",  # New Relic user keys
            r"\bpul-[a-f0-9]{40}\b",  # Pulumi
            r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{50,}",  # Terraform Cloud
            r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}",  # HashiCorp Vault
            r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b",  # Postman
            r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b",  # age
            r"\bAAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}",  # Firebase Cloud Messaging server keys
            r"\bsecret_[A-Za-z0-9]{43}\b",  # Notion
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
        return [redact_data(v) for v in _mask_key_blocks(data)]
    return data


_BLOCK_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_BLOCK_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def _mask_key_blocks(items: list[Any] | tuple[Any, ...]) -> list[Any]:
    """A private key split over several items (log lines) is masked whole: the lines after a BEGIN line that
    does not close, up to and including its END line (or the end of the list). The BEGIN line itself is
    masked by redact()."""
    out, inside = [], False
    for item in items:
        if isinstance(item, str):
            if inside:
                inside = not _BLOCK_END.search(item)
                out.append("[REDACTED private key]")
                continue
            begin = _BLOCK_BEGIN.search(item)
            inside = begin is not None and not _BLOCK_END.search(item, begin.end())
        out.append(item)
    return out


class _Formatted(str):
    """A record's message already formatted and redacted: `msg % args` gives it back unchanged, so a formatter
    that calls getMessage() again sees the same redacted text while the record keeps its (redacted) args."""

    __slots__ = ()

    def __str__(self) -> str:
        return self

    def __mod__(self, _args: object) -> str:
        return str.__str__(self)


def _redacted_arg(value: Any) -> Any:
    """Numbers stay numbers (uvicorn's access formatter reads its status code as one); anything else becomes
    its redacted text, so a formatter that reads args directly never sees a secret either."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(value if isinstance(value, str) else str(value))


def _redacted_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {k: MASK if isinstance(k, str) and secret_key(k) else _redacted_arg(v) for k, v in args.items()}
    if isinstance(args, tuple):
        return tuple(_redacted_arg(v) for v in args)
    return args


def redacting_record_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """A stdlib LogRecord factory that masks every record as it is made: uvicorn, bolt, python-telegram-bot and
    httpx log through it whatever handlers they configure. The message is redacted whole (a secret may span the
    format and an argument); the args stay, each redacted, for formatters that read them (uvicorn's access
    lines unpack them)."""
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a call whose arguments do not fit its format: keep what there is
            message = f"{record.msg} {record.args}"
        record.msg, record.args = _Formatted(redact(message)), _redacted_args(record.args)
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    return factory


def structlog_processor(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: every event is redacted before it is rendered."""
    return redact_data(event_dict)
