"""Logging set-up: every structlog event and every stdlib record is redacted before it is rendered."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import structlog

from bot.redact import MASK, redact, redact_data, secret_key


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


class _Stderr:
    """Whatever sys.stderr is at the time of writing (test runners swap it and close their copy)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "INFO", json: bool = False, stream: TextIO | None = None) -> None:
    """Call once at start-up (the CLI, a frontend, the worker). Secrets are masked in every log line, structlog's
    and the standard library's alike."""
    if not getattr(logging.getLogRecordFactory(), "redacting", False):
        logging.setLogRecordFactory(redacting_record_factory(logging.getLogRecordFactory()))
    # format_exc_info below has already made the traceback (redacted) text: the console prints it as it is.
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(
        colors=False, exception_formatter=structlog.dev.plain_traceback)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # the traceback becomes text, so it is redacted too
            structlog_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream or _Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
