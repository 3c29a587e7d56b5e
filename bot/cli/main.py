"""The `opsbot` entry point: one Typer app that mounts every command group, and the logging options every
subcommand accepts (`opsbot serve --log-format json` as well as `opsbot --log-format json serve`)."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any, Literal

import click
import typer
from typer.core import TyperGroup

GLOBAL_OPTIONS = ("--log-level", "--log-format")


def setup_logging(
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR")] = "WARNING",
    log_format: Annotated[Literal["console", "json"], typer.Option("--log-format", help="console or json (one "
                                                                   "object per line)")] = "console",
) -> None:
    """opsbot: an on-call assistant in chat."""
    from bot.logging import configure

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


# every command, loaded only when it runs or its own help is asked for: `opsbot --help` and a command that
# needs no model import neither LangChain, Chroma nor the whole triage stack. (name, "module:attribute", the
# one line `opsbot --help` shows — tests/cli/test_startup.py checks it is the command's own first line)
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("tool", "bot.cli.tool:tool_cmd", "Run any tool through the one door, e.g. `opsbot tool k8s_list --namespace "
     "shop`; a mutation is requested as the settings' cli.identity (default cli:<OS user>)."),
    ("audit", "bot.cli.audit:audit_cmd", "Print the audit trail: who asked for what, when, and how it went."),
    ("changes", "bot.cli.changes:changes_cmd", "What changed, oldest first: rollouts (image before → after), scale "
     "events (from → to, by whom), autoscaler decisions, Jobs and CronJob runs, ConfigMaps and Secrets modified "
     "(never values), nodes; e.g. `opsbot changes shop --since 2h`."),
    ("demo", "bot.cli.demo:demo_cmd", "The whole story on the sandbox: alert → card → approval → recovery → "
     "resolution → knowledge → audit."),
    ("eval", "bot.cli.evaluate:eval_cmd", "Run each scenario's alerts through Prometheus → Alertmanager → webhook "
     "→ worker → card; score the cards."),
    ("troubleshoot", "bot.cli.knowledge:troubleshoot_cmd", "Run the matching playbook's diagnosis for a service "
     "and print the conclusion, then the evidence; nothing is changed."),
    ("ask", "bot.cli.ask:ask_cmd", "Ask the agent a question as the settings' cli.identity (default cli:<OS "
     "user>); it investigates with the tools, through the door."),
    ("serve", "bot.cli.serve:serve_cmd", "Serve the Alertmanager and Sentry webhooks and run the triage workers "
     "that turn alerts into cards."),
    ("smoke", "bot.cli.smoke:smoke_cmd", "Send a synthetic alert through each configured intake and report each "
     "hop: straight to the webhooks (the card made and edited), and through Alertmanager (delivered to opsbot). "
     "Its incidents are never learned."),
    ("chat", "bot.cli.chat:chat_cmd", "Talk to opsbot in the terminal, as the settings' cli.identity (default "
     "cli:<OS user>)."),
    ("serve-slack", "bot.cli.chat:serve_slack_cmd", "Run the Slack bot: Socket Mode (slack.app_token) or HTTP "
     "events (slack.signing_secret)."),
    ("serve-telegram", "bot.cli.chat:serve_telegram_cmd", "Run the Telegram bot: long polling, or a webhook "
     "checked against telegram.webhook_secret."),
    ("sandbox", "bot.cli.sandbox:sandbox_app", "Real local backends on loopback, loaded from a scenario."),
    ("config", "bot.cli.config:config_app", "The settings in force, checked; the reference of every key."),
    ("policy", "bot.cli.policy:policy_app", "Check, explain and dry-run the policy."),
    ("action", "bot.cli.action:action_app", "Pending actions: list, approve, deny."),
    ("incident", "bot.cli.incident:incident_app", "Incidents: list them, show one's timeline, draft its "
     "postmortem, mark one."),
    ("report", "bot.cli.report:report_cmd", "Alerts received → incidents → cards, what was suppressed, the noisiest "
     "rules, mean times to detect, acknowledge, approve, fix and resolve by severity, verified fix success, false "
     "alarms, actions run automatically vs approved."),
    ("knowledge", "bot.cli.knowledge:knowledge_app", "Playbooks and past incidents: ingest, search."),
    ("mcp", "bot.cli.mcp:mcp_cmd", "Serve opsbot's tools to MCP clients (IDE and desktop assistants) over stdio, or "
     "streamable HTTP with --http; every call runs through the door as its caller, and a change waits for approval "
     "in chat."),
)
CONTEXT = {"tool": {"allow_extra_args": True, "ignore_unknown_options": True}}


def load(name: str, target: str) -> click.Command:
    """The click command behind `opsbot NAME`, its module imported now."""
    module, _, attr = target.partition(":")
    obj: Any = getattr(importlib.import_module(module), attr)
    if isinstance(obj, typer.Typer):
        group = typer.main.get_group(obj)
        group.name = name
        return group
    one = typer.Typer(add_completion=False)
    one.command(name, context_settings=CONTEXT.get(name))(obj)
    return typer.main.get_command(one)


class _Lazy(click.Command):
    """A command listed by name and one line; its module is imported when it is parsed (it runs, or its own
    --help is asked for)."""

    def __init__(self, name: str, target: str, line: str):
        super().__init__(name, help=line)
        self.target = target

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        return load(self.name or "", self.target).make_context(info_name, args, parent=parent, **extra)


class _Commands(TyperGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, _, _ in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return next((_Lazy(n, t, line) for n, t, line in COMMANDS if n == cmd_name), None)


app = typer.Typer(cls=_Commands, no_args_is_help=True, add_completion=False,
                  help="opsbot: an on-call assistant in chat.")
app.callback()(setup_logging)


def main() -> None:
    """The console script: `opsbot …`. A policy, playbook or scenario file that cannot be used stops any command
    with its file, line and reason, not a traceback."""
    try:
        app(args=global_options_first(sys.argv[1:]), prog_name="opsbot")
    except Exception as e:
        from policies.yamlfile import FileError

        if not isinstance(e, FileError):
            raise
        print(f"opsbot: {e}", file=sys.stderr)
        sys.exit(2)
