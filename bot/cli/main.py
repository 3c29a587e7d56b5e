"""The `opsbot` entry point: one Typer app that mounts every command group, and the logging options every
subcommand accepts (`opsbot serve --log-format json` as well as `opsbot --log-format json serve`)."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from bot.cli.action import action_app
from bot.cli.ask import ask_cmd
from bot.cli.audit import audit_cmd
from bot.cli.changes import changes_cmd
from bot.cli.chat import chat_cmd, serve_slack_cmd, serve_telegram_cmd
from bot.cli.config import config_app
from bot.cli.demo import demo_cmd
from bot.cli.evaluate import eval_cmd
from bot.cli.incident import incident_app
from bot.cli.knowledge import knowledge_app, troubleshoot_cmd
from bot.cli.policy import policy_app
from bot.cli.sandbox import sandbox_app
from bot.cli.serve import register as register_serve
from bot.cli.tool import tool_cmd
from bot.logging import configure
from policies.yamlfile import FileError

GLOBAL_OPTIONS = ("--log-level", "--log-format")


def setup_logging(
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR")] = "WARNING",
    log_format: Annotated[Literal["console", "json"], typer.Option("--log-format", help="console or json (one "
                                                                   "object per line)")] = "console",
) -> None:
    """opsbot: an on-call assistant in chat."""
    configure(log_level, json=log_format == "json")


def global_options_first(argv: list[str]) -> list[str]:
    """The logging options moved in front of the subcommand, wherever they were given."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        if arg in GLOBAL_OPTIONS and i + 1 < len(argv):
            front += argv[i:i + 2]
            i += 2
            continue
        (front if arg.split("=", 1)[0] in GLOBAL_OPTIONS else rest).append(arg)
        i += 1
    return front + rest


app = typer.Typer(no_args_is_help=True, add_completion=False, help="opsbot: an on-call assistant in chat.")
app.callback()(setup_logging)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(config_app, name="config")
app.command("tool", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(tool_cmd)
app.command("audit")(audit_cmd)
app.command("changes")(changes_cmd)
app.command("demo")(demo_cmd)
app.command("eval")(eval_cmd)
app.add_typer(policy_app, name="policy")
app.add_typer(action_app, name="action")
app.add_typer(incident_app, name="incident")
app.add_typer(knowledge_app, name="knowledge")
app.command("troubleshoot")(troubleshoot_cmd)
app.command("ask")(ask_cmd)
register_serve(app)
app.command("chat")(chat_cmd)
app.command("serve-slack")(serve_slack_cmd)
app.command("serve-telegram")(serve_telegram_cmd)


def main() -> None:
    """The console script: `opsbot …`. A policy, playbook or scenario file that cannot be used stops any command
    with its file, line and reason, not a traceback."""
    try:
        app(args=global_options_first(sys.argv[1:]), prog_name="opsbot")
    except FileError as e:
        print(f"opsbot: {e}", file=sys.stderr)
        sys.exit(2)
