"""`opsbot policy check|explain|whatcan|pause|resume`: validate the policy, explain a decision, list what someone may
do, and pause or resume automatic actions (the kill switch of rules with a track record)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot import messages
from bot.cli import common
from bot.cli.common import ConfigOpt, fail
from bot.redact import redact
import redis

from bot.guard.approvals import ApprovalStore, ApprovalsUnavailable
from bot.guard.audit import AuditLog, AuditRecord, AuditUnavailable
from bot.guard.gate import track_records
from bot.guard.pause import PauseSwitch
from bot.settings import Settings
from bot.wiring import outcomes, redis_client
from policies.engine import ActionRequest, Execution, PolicyEngine
from policies.schema import load_policy
from policies.yamlfile import FileError
from tools.context import utc_now

policy_app = typer.Typer(no_args_is_help=True, help="Check, explain and dry-run the policy.")


def _engine(config: Path | None, path: Path | None = None) -> PolicyEngine:
    try:
        return PolicyEngine(load_policy(path or common.settings(config).policy_file))
    except (OSError, FileError) as e:
        fail(str(e))


@policy_app.command("check")
def policy_check(path: Path) -> None:
    """Validate a policy file: every error with its file, line and reason."""
    engine = _engine(None, path)
    p = engine.policy
    typer.echo(f"{path}: valid policy: {len(p.rules)} rules, {len(p.roles)} roles, {len(p.members)} members")


@policy_app.command("explain")
def policy_explain(
    tool: Annotated[str, typer.Option(help="e.g. k8s_scale")],
    namespace: Annotated[str, typer.Option()],
    identity: Annotated[str, typer.Option("--as", help="requester, e.g. slack:U123")],
    severity: Annotated[str, typer.Option(help="P0..P3 or INFO")] = "P3",
    name: Annotated[str, typer.Option(help="target deployment (the pod, for k8s_delete_pod)")] = "example",
    replicas: Annotated[str | None, typer.Option(help="CURRENT:NEW for scaling, e.g. 3:6")] = None,
    failure_mode: Annotated[str | None, typer.Option(help="the playbook triage diagnosed, e.g. crashloopbackoff: "
                                                     "rules with a track record read its verified outcomes")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print the decision for a request and why: the policy, and the cooldowns and hourly budgets as the recent
    executions in Redis stand now (the same ledger the gate reads). Changes nothing."""
    settings = common.settings(config)
    engine = _engine(None, settings.policy_file)
    pair = None
    if replicas:
        current, _, new = replicas.partition(":")
        if not (current.lstrip("-").isdigit() and new.lstrip("-").isdigit()):
            fail("--replicas takes CURRENT:NEW, e.g. 3:6")
        pair = (int(current), int(new))
    if severity not in engine.policy.severities.order:
        fail(f"unknown severity {severity!r}; one of {', '.join(engine.policy.severities.order)}")
    kind = "pod" if tool == "k8s_delete_pod" else "deployment"  # as the tools' previews file their targets
    req = ActionRequest(tool=tool, namespace=namespace, target=f"{namespace}/{kind}/{name}", requester=identity,
                        severity=severity, replicas=pair, deployment=name,  # type: ignore[arg-type]
                        failure_mode=failure_mode)
    now = utc_now()
    client = redis_client(settings)  # the gate's own reads: the ledger, the track records, the kill switch
    try:
        executions: list[Execution] | None = ApprovalStore(client, settings.redis.key_prefix).executions(now)
    except ApprovalsUnavailable:
        executions = None
    paused = PauseSwitch(client, settings.redis.key_prefix).why(settings)
    d = engine.decide(req, executions, now, mutates=tool in engine.policy.tools,
                      records=track_records(outcomes(settings)), paused=paused)
    typer.echo(f"decision: {d.outcome} ({d.tier}, {d.severity}): {d.reason}")
    if d.approvers:
        a = d.approvers
        typer.echo(f"approvers: {a.count} of {', '.join(a.roles)}; self-approval "
                   f"{'allowed' if a.self_approval else 'not allowed'}; expires after {a.expires}")
    for check in d.checks:
        if check != d.reason:  # a refusal's reason is its last check: said once, on the decision line
            typer.echo(f"  - {check}")
    if d.tier == "T0":
        return
    if any(r.earned for r in engine.policy.rules):
        typer.echo(messages.AUTOMATIC_PAUSED.format(why=paused) if paused else messages.AUTOMATIC_ON)
    if executions is None:
        typer.echo(messages.LEDGER_UNREAD.format(url=redact(settings.redis.url)))
    else:
        for line in engine.limits(req, executions, now):
            typer.echo(f"  {line}")


@policy_app.command("whatcan")
def policy_whatcan(identity: str, config: ConfigOpt = None) -> None:
    """List what an identity may request and approve (and that every allow asks while automatic actions are
    paused)."""
    settings = common.settings(config)
    paused = PauseSwitch(redis_client(settings), settings.redis.key_prefix).why(settings)
    for line in _engine(None, settings.policy_file).whatcan(identity, paused):
        typer.echo(line)


def _switch(settings: Settings) -> tuple[PauseSwitch, AuditLog]:
    client, prefix = redis_client(settings), settings.redis.key_prefix
    return PauseSwitch(client, prefix), AuditLog(client, f"{prefix}audit")


def _audited(audit: AuditLog, who: str, verb: str, status: str, summary: str) -> None:
    try:
        audit.append(AuditRecord(at=utc_now(), kind="policy", identity=who, action=f"policy_{verb}",
                                 status=status, summary=summary))
    except AuditUnavailable as e:
        fail(f"{e}; the switch moved but the audit log did not record it")


@policy_app.command("pause")
def policy_pause(reason: Annotated[str, typer.Option(help="why, for the audit and the cards")] = "",
                 config: ConfigOpt = None) -> None:
    """Pause automatic actions at once, in every opsbot process: every rule that would run an action by its
    track record asks a person (audited)."""
    settings = common.settings(config)
    who, (switch, audit) = common.me(settings), _switch(settings)
    try:
        before = switch.state()
        switch.pause(who, utc_now(), redact(reason))
        now = switch.state()
    except redis.RedisError as e:
        fail(messages.PAUSE_UNREACHABLE.format(url=redact(settings.redis.url), verb="pause", error=type(e).__name__))
    assert now is not None
    _audited(audit, who, "pause", "paused", f"automatic actions paused {now.words()}")
    if before is not None:
        typer.echo(messages.ALREADY_PAUSED.format(by=before.words()))
    typer.echo(messages.PAUSED.format(by=now.words()))


@policy_app.command("resume")
def policy_resume(config: ConfigOpt = None) -> None:
    """Lift `opsbot policy pause` (audited); it takes a role that may approve actions."""
    settings = common.settings(config)
    who, engine, (switch, audit) = common.me(settings), _engine(config), _switch(settings)
    roles = engine.roles_of(who)
    if not any(engine.policy.roles[r].approve_up_to for r in roles):
        _audited(audit, who, "resume", "refused", "refused: no role that may approve actions")
        fail(messages.MAY_NOT_RESUME.format(who=who, roles=", ".join(roles) or "no role"))
    try:
        was = switch.resume()
    except redis.RedisError as e:
        fail(messages.PAUSE_UNREACHABLE.format(url=redact(settings.redis.url), verb="resume", error=type(e).__name__))
    if was is None:
        typer.echo(messages.NOT_PAUSED)
    else:
        _audited(audit, who, "resume", "resumed", f"automatic actions resumed; they were paused {was.words()}")
        typer.echo(messages.RESUMED.format(by=was.words()))
    if settings.autonomy_paused:
        typer.echo(messages.STILL_PAUSED_BY_SETTING)
