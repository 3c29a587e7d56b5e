"""`opsbot config show|check|reference`: the settings in force (secrets masked), what they mean, and the
reference of every key."""

from __future__ import annotations

from typing import Annotated

import typer
import yaml

from bot.cli import common
from bot.cli.common import ConfigOpt
from bot.config.check import check
from bot.config.reference import effective, markdown

config_app = typer.Typer(no_args_is_help=True, help="The settings in force, checked; the reference of every key.")


@config_app.command("show")
def show_cmd(config: ConfigOpt = None) -> None:
    """The effective settings (file, then environment), every secret masked."""
    typer.echo(yaml.safe_dump(effective(common.settings(config)), sort_keys=False, allow_unicode=True).rstrip())


@config_app.command("check")
def check_cmd(
    config: ConfigOpt = None,
    offline: Annotated[bool, typer.Option("--offline", help="skip the backends: files and combinations only")] = False,
) -> None:
    """The policy and playbooks load, no combination switches something off unawares, each backend answers.
    Exits 1 on any FAIL."""
    findings = check(common.settings(config), offline)
    for f in findings:
        typer.echo(f.line())
    failed = [f for f in findings if f.level == "fail"]
    typer.echo(f"\n{len(failed)} failed, {sum(f.level == 'warn' for f in findings)} warnings")
    if failed:
        raise typer.Exit(1)


@config_app.command("reference")
def reference_cmd() -> None:
    """Every key as markdown: docs/configuration.md is this output."""
    typer.echo(markdown(), nl=False)
