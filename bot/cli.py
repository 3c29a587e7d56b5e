"""The `opsbot` command: the sandbox, tools through the one door, the audit trail."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml

from bot.approvals import ApprovalsUnavailable
from bot.audit import AuditUnavailable
from bot.demo import DemoFailed, run_demo
from bot.door import Caller
from bot.settings import Settings, load_settings
from bot.yamlfile import FileError
from bot.wiring import build_door
from sandbox import procs, scenario
from policies.engine import ActionRequest, PolicyEngine
from policies.schema import load_policy
from sandbox.manager import Sandbox
from tools.base import Status, ToolInputError, ToolResult
from tools.context import utc_now
from tools.timerange import parse_point

app = typer.Typer(no_args_is_help=True, add_completion=False, help="opsbot: an on-call assistant in chat.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Real local backends on loopback, loaded from a scenario.")
app.add_typer(sandbox_app, name="sandbox")

DEFAULT_SANDBOX_DIR = Path(".sandbox")
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="OPSBOT_CONFIG", help="settings YAML (default: the sandbox's, if it is up)"),
]
DirOpt = Annotated[Path, typer.Option("--dir", help="the sandbox's state directory")]


def _settings(config: Path | None) -> Settings:
    if config is None and (DEFAULT_SANDBOX_DIR / "opsbot.yaml").is_file():
        config = DEFAULT_SANDBOX_DIR / "opsbot.yaml"
    try:
        return load_settings(config)
    except Exception as e:  # a configuration mistake fails at start-up, in words
        typer.echo(f"opsbot: bad settings: {e}", err=True)
        raise typer.Exit(2) from None


def _fail(message: str) -> NoReturn:
    typer.echo(f"opsbot: {message}", err=True)
    raise typer.Exit(1)


def _me() -> str:
    return f"cli:{getpass.getuser()}"


def print_result(result: ToolResult, max_lines: int | None = None) -> None:
    mark = {Status.success: "ok", Status.no_data: "no data", Status.error: "ERROR"}.get(result.status, result.status)
    typer.echo(f"$ {result.invocation}  [{mark}]")
    if result.error:
        typer.echo(f"  {result.error}")
    if result.notice:
        typer.echo(f"  note: {result.notice}")
    if result.data is not None:
        lines = yaml.safe_dump(result.data, sort_keys=False, allow_unicode=True, width=120).rstrip().splitlines()
        if max_lines is not None and len(lines) > max_lines:
            lines = [*lines[:max_lines], f"… {len(lines) - max_lines} more lines (run the tool yourself for all)"]
        typer.echo("\n".join("  " + line for line in lines))


@sandbox_app.command("up")
def sandbox_up(state_dir: DirOpt = DEFAULT_SANDBOX_DIR) -> None:
    """Start Redis, Prometheus, Alertmanager, the Elasticsearch-API server and the Kubernetes emulator."""
    try:
        ports = Sandbox(state_dir).up()
    except procs.SandboxError as e:
        _fail(str(e))
    for name, port in vars(ports).items():
        typer.echo(f"  {name:<14} 127.0.0.1:{port}")
    typer.echo(f"settings: {Sandbox(state_dir).settings_file}")


@sandbox_app.command("down")
def sandbox_down(state_dir: DirOpt = DEFAULT_SANDBOX_DIR) -> None:
    """Stop every sandbox server."""
    stopped = Sandbox(state_dir).down()
    typer.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@sandbox_app.command("status")
def sandbox_status(state_dir: DirOpt = DEFAULT_SANDBOX_DIR) -> None:
    """Which sandbox servers run, and which scenario is loaded."""
    sb = Sandbox(state_dir)
    status = sb.status()
    for name, running in status.items():
        typer.echo(f"  {name:<14} {'running' if running else 'stopped'}")
    typer.echo(f"scenario: {sb.loaded() or '(none)'}")
    if not all(status.values()):
        raise typer.Exit(1)


@sandbox_app.command("load")
def sandbox_load(name: str, state_dir: DirOpt = DEFAULT_SANDBOX_DIR) -> None:
    """Load a scenario (a shipped name or a file path) into every backend; times are relative to now."""
    try:
        sc = scenario.load(name)
        Sandbox(state_dir).load(sc)
    except (scenario.ScenarioError, procs.SandboxError) as e:
        _fail(str(e))
    typer.echo(f"loaded {sc.name}: {sc.title}")


@sandbox_app.command("scenarios")
def sandbox_scenarios() -> None:
    """List the shipped scenarios."""
    for name in scenario.shipped():
        typer.echo(f"  {name:<28} {scenario.load(name).title}")


@sandbox_app.command("check")
def sandbox_check(path: Path) -> None:
    """Validate a scenario file."""
    try:
        sc = scenario.parse(path.read_text(), str(path))
    except (OSError, scenario.ScenarioError) as e:
        _fail(str(e))
    typer.echo(f"{path}: valid scenario {sc.name!r}")


def _parse_tool_args(words: list[str]) -> dict[str, Any]:
    """`--namespace shop --tail 50 --previous` → {"namespace": "shop", "tail": "50", "previous": True}."""
    args: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise ToolInputError(f"expected --name value, got {word!r}")
        key, _, inline = word[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            args[key] = inline
        elif i + 1 < len(words) and not words[i + 1].startswith("--"):
            args[key] = words[i + 1]
            i += 1
        else:
            args[key] = True
        i += 1
    return args


@app.command(
    "tool", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def tool_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="tool name; omit to list the tools")] = None,
    identity: Annotated[str | None, typer.Option("--as", help="requester identity (default cli:<user>)")] = None,
    severity: Annotated[str | None, typer.Option(help="incident severity for mutations: P0..P3, INFO")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run any tool through the one door, e.g. `opsbot tool k8s_list_pods --namespace shop`."""
    door = build_door(_settings(config))
    if name is None:
        for t in door.tools.values():
            typer.echo(f"  {t.name:<20} {t.description.splitlines()[0]}")
        return
    try:
        args = _parse_tool_args(ctx.args)
    except ToolInputError as e:
        _fail(str(e))
    try:
        caller = Caller(identity=identity or _me(), via="cli", severity=severity)
    except ValueError:
        _fail(f"unknown severity {severity!r}; one of P0, P1, P2, P3, INFO")
    result = door.run(name, args, caller)
    print_result(result)
    if result.status == Status.error:
        raise typer.Exit(1)


@app.command("audit")
def audit_cmd(
    since: Annotated[str, typer.Option(help="'12h', 'last 30m' or an ISO time")] = "12h",
    identity: Annotated[str | None, typer.Option("--as", help="only this identity")] = None,
    target: Annotated[str | None, typer.Option(help="only targets containing this")] = None,
    action: Annotated[str | None, typer.Option(help="only this tool or action")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print the audit trail: who asked for what, when, and how it went."""
    door = build_door(_settings(config))
    try:
        start = parse_point(since, door.ctx.now())
    except ToolInputError as e:
        _fail(str(e))
    try:
        records = door.audit.query(since=start, identity=identity, target=target, action=action)
    except AuditUnavailable as e:
        _fail(str(e))
    if not records:
        typer.echo(f"no audit records since {start:%Y-%m-%d %H:%M:%S} UTC matching the filters")
        return
    for r in records:
        took = f" {r.duration_ms:.0f}ms" if r.duration_ms is not None else ""
        typer.echo(f"{r.at:%Y-%m-%d %H:%M:%S} {r.identity:<18} {r.kind:<10} {r.status:<9}{took}  {r.summary}")


@app.command("demo")
def demo_cmd(
    state_dir: DirOpt = DEFAULT_SANDBOX_DIR,
    scenario_name: Annotated[str | None, typer.Option("--scenario", help="default: the loaded one")] = None,
    question: Annotated[str, typer.Option(help="asked when a model is configured")] = "why is it failing?",
) -> None:
    """The whole story on the sandbox: alert → card → approval → recovery → resolution → knowledge → audit."""
    sb = Sandbox(state_dir)
    name = scenario_name or sb.loaded()
    if name is None:
        _fail(f"no scenario loaded in {state_dir}; run `opsbot sandbox load NAME` or pass --scenario")
    try:
        sc = scenario.load(name)
        settings = _settings(sb.settings_file)
        trail = run_demo(sb, sc, settings, typer.echo, question if settings.llm.model else None)
    except (scenario.ScenarioError, procs.SandboxError, DemoFailed) as e:
        _fail(f"demo stopped: {e}")
    typer.echo(f"\ndemo complete: {len(trail)} audit records; the cluster recovered and the alert resolved")


policy_app = typer.Typer(no_args_is_help=True, help="Check, explain and dry-run the policy.")
app.add_typer(policy_app, name="policy")


def _engine(config: Path | None, path: Path | None = None) -> PolicyEngine:
    try:
        return PolicyEngine(load_policy(path or _settings(config).policy_file))
    except (OSError, FileError) as e:
        _fail(str(e))


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
    name: Annotated[str, typer.Option(help="target deployment")] = "example",
    replicas: Annotated[str | None, typer.Option(help="CURRENT:NEW for scaling, e.g. 3:6")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print the decision for a request and why, without touching any backend."""
    engine = _engine(config)
    pair = None
    if replicas:
        current, _, new = replicas.partition(":")
        if not (current.lstrip("-").isdigit() and new.lstrip("-").isdigit()):
            _fail("--replicas takes CURRENT:NEW, e.g. 3:6")
        pair = (int(current), int(new))
    if severity not in engine.policy.severities.order:
        _fail(f"unknown severity {severity!r}; one of {', '.join(engine.policy.severities.order)}")
    req = ActionRequest(tool=tool, namespace=namespace, target=f"{namespace}/deployment/{name}", requester=identity,
                        severity=severity, replicas=pair, deployment=name)  # type: ignore[arg-type]
    d = engine.decide(req, [], utc_now(), mutates=tool in engine.policy.tools)
    typer.echo(f"decision: {d.outcome} ({d.tier}, {d.severity}): {d.reason}")
    if d.approvers:
        a = d.approvers
        typer.echo(f"approvers: {a.count} of {', '.join(a.roles)}; self-approval "
                   f"{'allowed' if a.self_approval else 'not allowed'}; expires after {a.expires}")
    for check in d.checks:
        typer.echo(f"  - {check}")


@policy_app.command("whatcan")
def policy_whatcan(identity: str, config: ConfigOpt = None) -> None:
    """List what an identity may request and approve."""
    for line in _engine(config).whatcan(identity):
        typer.echo(line)


action_app = typer.Typer(no_args_is_help=True, help="Pending actions: list, approve, deny.")
app.add_typer(action_app, name="action")


@action_app.command("list")
def action_list(config: ConfigOpt = None) -> None:
    """Pending actions waiting for approval (expired ones are marked and audited first)."""
    door = build_door(_settings(config))
    try:
        door.gate.expire_due()
        ids = door.gate.store.pending()
    except ApprovalsUnavailable as e:
        _fail(str(e))
    if not ids:
        typer.echo("no pending actions")
    for action_id in ids:
        a = door.gate.store.get(action_id)
        if a:
            typer.echo(f"#{a.id}  {a.preview.summary}  requested by {a.requester}, "
                       f"approvals {len(a.approvals)}, expires {a.expires_at:%H:%M:%S} UTC: {a.decision.reason}")


def _decide(action_id: str, identity: str | None, approve: bool, config: Path | None) -> None:
    door = build_door(_settings(config))
    verdict = door.gate.decide(action_id.lstrip("#"), identity or _me(), approve)
    typer.echo(verdict.message)
    if verdict.result is not None:
        print_result(verdict.result)
    if not verdict.ok:
        raise typer.Exit(1)


@action_app.command("approve")
def action_approve(
    action_id: str,
    identity: Annotated[str | None, typer.Option("--as", help="approver identity (default cli:<user>)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Approve a pending action; the approval that completes it executes it, once."""
    _decide(action_id, identity, True, config)


@action_app.command("deny")
def action_deny(
    action_id: str,
    identity: Annotated[str | None, typer.Option("--as", help="identity (default cli:<user>)")] = None,
    config: ConfigOpt = None,
) -> None:
    """Deny a pending action."""
    _decide(action_id, identity, False, config)


from bot.cli_knowledge import knowledge_app, troubleshoot_cmd  # noqa: E402 - it imports this module lazily

app.add_typer(knowledge_app, name="knowledge")
app.command("troubleshoot")(troubleshoot_cmd)

from bot.cli_agent import ask_cmd, setup_logging  # noqa: E402

app.callback()(setup_logging)
app.command("ask")(ask_cmd)

from bot.cli_serve import register as register_serve  # noqa: E402

register_serve(app)

from bot.cli_chat import chat_cmd, serve_slack_cmd, serve_telegram_cmd  # noqa: E402 - it imports this module lazily

app.command("chat")(chat_cmd)
app.command("serve-slack")(serve_slack_cmd)
app.command("serve-telegram")(serve_telegram_cmd)
