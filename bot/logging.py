"""Logging set-up: every structlog event and every stdlib record is redacted before it is rendered."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from bot.redact import redacting_record_factory, structlog_processor


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
