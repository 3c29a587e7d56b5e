"""The `opsbot` entry point: one Typer app that mounts every command group."""

from __future__ import annotations

import typer

from bot.cli.action import action_app
from bot.cli.ask import ask_cmd, setup_logging
from bot.cli.audit import audit_cmd
from bot.cli.chat import chat_cmd, serve_slack_cmd, serve_telegram_cmd
from bot.cli.demo import demo_cmd
from bot.cli.evaluate import eval_cmd
from bot.cli.knowledge import knowledge_app, troubleshoot_cmd
from bot.cli.policy import policy_app
from bot.cli.sandbox import sandbox_app
from bot.cli.serve import register as register_serve
from bot.cli.tool import tool_cmd

app = typer.Typer(no_args_is_help=True, add_completion=False, help="opsbot: an on-call assistant in chat.")
app.callback()(setup_logging)
app.add_typer(sandbox_app, name="sandbox")
app.command("tool", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(tool_cmd)
app.command("audit")(audit_cmd)
app.command("demo")(demo_cmd)
app.command("eval")(eval_cmd)
app.add_typer(policy_app, name="policy")
app.add_typer(action_app, name="action")
app.add_typer(knowledge_app, name="knowledge")
app.command("troubleshoot")(troubleshoot_cmd)
app.command("ask")(ask_cmd)
register_serve(app)
app.command("chat")(chat_cmd)
app.command("serve-slack")(serve_slack_cmd)
app.command("serve-telegram")(serve_telegram_cmd)
