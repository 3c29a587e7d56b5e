"""What every command group shares: the settings and options, failing in words, the caller, printing a result."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import yaml

from bot.settings import Settings, load_settings
from tools.base import Status, ToolResult

DEFAULT_SANDBOX_DIR = Path(".sandbox")
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="OPSBOT_CONFIG", help="settings YAML (default: the sandbox's, if it is up)"),
]
DirOpt = Annotated[Path, typer.Option("--dir", help="the sandbox's state directory")]


def settings(config: Path | None) -> Settings:
    """The one settings object: `--config`, else the sandbox's when it is up, else the environment."""
    if config is None and (DEFAULT_SANDBOX_DIR / "opsbot.yaml").is_file():
        config = DEFAULT_SANDBOX_DIR / "opsbot.yaml"
    from bot.config.errors import explain

    try:
        return load_settings(config)
    except FileNotFoundError as e:
        typer.echo(f"opsbot: {e}", err=True)
    except Exception as e:  # a configuration mistake fails at start-up, in words: where, which key, what
        typer.echo(f"opsbot: {explain(e, Settings, config, os.environ)}", err=True)
    raise typer.Exit(2)


def fail(message: str) -> NoReturn:
    typer.echo(f"opsbot: {message}", err=True)
    raise typer.Exit(1)


def me(settings: Settings) -> str:
    """Who the command line is: the setting cli.identity, else cli:<the OS user>; never a flag."""
    return settings.cli.identity or f"cli:{getpass.getuser()}"


def print_result(result: ToolResult, max_lines: int | None = None) -> None:
    typer.echo(result_lines(result, max_lines))


def result_lines(result: ToolResult, max_lines: int | None = None) -> str:
    """A tool result as the command line prints it: the call and its mark, the error, the note, the data."""
    mark = {Status.success: "ok", Status.no_data: "no data", Status.error: "ERROR"}.get(result.status, result.status)
    out = [f"$ {result.invocation}  [{mark}]"]
    if result.error:
        out.append(f"  {result.error}")
    if result.notice:
        out.append(f"  note: {result.notice}")
    if result.data is not None:
        lines = yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=120).rstrip().splitlines()
        if max_lines is not None and len(lines) > max_lines:
            lines = [*lines[:max_lines], f"… {len(lines) - max_lines} more lines (run the tool yourself for all)"]
        out.append("\n".join("  " + line for line in lines))
    return "\n".join(out)
