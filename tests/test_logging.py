"""The CLI's logging set-up outlives the stream it started on: a log line after `opsbot ...` still prints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from typer.testing import CliRunner

from bot.cli.main import app
from bot.logging import configure


@pytest.fixture
def reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()  # this test's --log-level INFO stays out of the others


def test_a_log_line_after_a_cli_run_reaches_the_current_stderr(reset_logging: None,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    result = CliRunner().invoke(app, ["--log-level", "INFO", "sandbox", "scenarios"])
    assert result.exit_code == 0, result.output

    # The runner's stderr is closed by now; the logger must write to whatever sys.stderr is at this moment.
    structlog.get_logger("after").info("alert_received", incident="inc-1", token="ghp_0123456789abcdefghijABCDEFGHIJ0123")

    err = capsys.readouterr().err
    assert "alert_received" in err and "incident=inc-1" in err
    assert "ghp_" not in err and "[REDACTED]" in err


def test_a_logged_exception_prints_its_redacted_traceback_without_a_warning(
        reset_logging: None, capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder) -> None:
    configure("INFO")
    try:
        raise RuntimeError("connect to postgres://app:s3cr3t@db/shop failed")
    except RuntimeError:
        structlog.get_logger("t").exception("backend_failed")

    err = capsys.readouterr().err
    assert "Traceback" in err and "postgres://app:[REDACTED]@db/shop" in err and "s3cr3t" not in err
    assert not [w for w in recwarn if "format_exc_info" in str(w.message)]


def test_stdlib_loggers_are_masked_too(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    configure("INFO")
    with caplog.at_level(logging.INFO):
        logging.getLogger("thirdparty.client").warning("POST https://api.telegram.org/bot%s/sendMessage",
                                                "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0")
        try:
            raise RuntimeError("postgres://app:s3cr3tPw0rd@db/shop unreachable")
        except RuntimeError:
            logging.getLogger("thirdparty.client").exception("request failed")
    text = caplog.text
    assert "sendMessage" in text and "AAHdqTcv" not in text
    assert "request failed" in text and "s3cr3tPw0rd" not in text


def test_a_record_keeps_its_arguments_redacted_for_formatters_that_read_them() -> None:
    """uvicorn's access formatter unpacks record.args; a formatter may call getMessage() again."""
    import logging

    configure("INFO")
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/cb?token=abc123secret", "1.1", 200), None)
    client, method, path, version, status = record.args  # type: ignore[misc]
    assert (client, method, version, status) == ("127.0.0.1:5000", "GET", "1.1", 200)
    assert path == "/cb?token=[REDACTED]"
    assert record.getMessage() == '127.0.0.1:5000 - "GET /cb?token=[REDACTED] HTTP/1.1" 200'
    assert logging.Formatter("%(message)s").format(record) == record.getMessage()
