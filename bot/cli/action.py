"""`opsbot action list|approve|deny`: pending actions from the command line, decided through the gate."""

from __future__ import annotations

from pathlib import Path
import typer

from bot.cli import common
from bot.cli.common import ConfigOpt, fail, me, print_result
from bot.guard.approvals import ApprovalsUnavailable, PendingAction, proposer
from bot.wiring import build_door

action_app = typer.Typer(no_args_is_help=True, help="Pending actions: list, approve, deny.")


@action_app.command("list")
def action_list(config: ConfigOpt = None) -> None:
    """Pending actions waiting for approval (expired ones are marked and audited first)."""
    door = build_door(common.settings(config))
    try:
        door.gate.expire_due()
        ids = door.gate.store.pending()
    except ApprovalsUnavailable as e:
        fail(str(e))
    if not ids:
        typer.echo("no pending actions")
    for action_id in ids:
        a = door.gate.store.get(action_id)
        if a:
            typer.echo(pending_line(a))


def pending_line(a: PendingAction) -> str:
    """One pending action in a line: its id, what it changes, who proposed it, approvals so far, expiry, why."""
    return (f"#{a.id}  {a.preview.summary}  {proposer(a)}, approvals {len(a.approvals)}, "
            f"expires {a.expires_at:%H:%M:%S} UTC: {a.decision.reason}")


def _decide(action_id: str, approve: bool, config: Path | None) -> None:
    s = common.settings(config)
    verdict = build_door(s).gate.decide(action_id.lstrip("#"), me(s), approve)
    typer.echo(verdict.message)
    if verdict.result is not None:
        print_result(verdict.result)
    if not verdict.ok:
        raise typer.Exit(1)


@action_app.command("approve")
def action_approve(action_id: str, config: ConfigOpt = None) -> None:
    """Approve a pending action as the settings' cli.identity (default cli:<OS user>); the approval that
    completes it executes it, once."""
    _decide(action_id, True, config)


@action_app.command("deny")
def action_deny(action_id: str, config: ConfigOpt = None) -> None:
    """Deny a pending action as the settings' cli.identity (default cli:<OS user>)."""
    _decide(action_id, False, config)
