"""`opsbot policy check|explain|whatcan`: validate the policy, explain a decision, list what someone may do."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot import messages
from bot.cli import common
from bot.cli.common import ConfigOpt, fail
from bot.redact import redact
from bot.guard.approvals import ApprovalStore, ApprovalsUnavailable
from bot.wiring import redis_client
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
                        severity=severity, replicas=pair, deployment=name)  # type: ignore[arg-type]
    now = utc_now()
    try:
        executions: list[Execution] | None = ApprovalStore(redis_client(settings), settings.redis.key_prefix) \
            .executions(now)
    except ApprovalsUnavailable:
        executions = None
    d = engine.decide(req, executions, now, mutates=tool in engine.policy.tools)
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
    if executions is None:
        typer.echo(messages.LEDGER_UNREAD.format(url=redact(settings.redis.url)))
    else:
        for line in engine.limits(req, executions, now):
            typer.echo(f"  {line}")


@policy_app.command("whatcan")
def policy_whatcan(identity: str, config: ConfigOpt = None) -> None:
    """List what an identity may request and approve."""
    for line in _engine(config).whatcan(identity):
        typer.echo(line)
