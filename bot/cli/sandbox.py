"""`opsbot sandbox up|down|status|load|scenarios|check`: the real local backends, loaded from a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import DEFAULT_SANDBOX_DIR, DirOpt, fail
from sandbox import k8s_real, procs, scenario
from sandbox.manager import KUBERNETES, Sandbox, intake_url

sandbox_app = typer.Typer(no_args_is_help=True, help="Real local backends on loopback, loaded from a scenario.")


@sandbox_app.command("up")
def sandbox_up(
    state_dir: DirOpt = DEFAULT_SANDBOX_DIR,
    chroma: Annotated[bool, typer.Option("--chroma", help="also start a Chroma server and point "
                                         "knowledge.chroma_url at it: several opsbot processes share one "
                                         "knowledge store")] = False,
    kubernetes: Annotated[str, typer.Option("--kubernetes", help="'emulator' (ours, starts in a second) or "
                                            "'real': etcd, kube-apiserver, kube-scheduler, kube-controller-manager, "
                                            "kwok and kube-state-metrics built by scripts/bootstrap.sh "
                                            "(docs/controlplane.md)")] = "emulator",
) -> None:
    """Start Redis, Prometheus, Alertmanager, the Elasticsearch-API server, a Loki API emulator and Kubernetes (the
    emulator, or the real control plane)."""
    if kubernetes not in KUBERNETES:
        fail(f"--kubernetes must be one of {', '.join(KUBERNETES)}, not '{kubernetes}'")
    try:
        ports = Sandbox(state_dir, chroma=chroma, kubernetes=kubernetes).up()
    except procs.SandboxError as e:
        fail(str(e))
    sb = Sandbox(state_dir)
    for name, port in vars(ports).items():
        if port is not None:
            loader = " (the emulator that loads scenarios)" if name == "kubernetes" and sb.real else ""
            typer.echo(f"  {name:<14} 127.0.0.1:{port}{loader}")
    if sb.real:
        typer.echo(f"  {'kube-apiserver':<14} {k8s_real.control_plane(sb.dir).url} (opsbot's kubeconfig: deploy/'s "
                   f"ServiceAccount; the administrator's: {k8s_real.control_plane(sb.dir).admin_kubeconfig})")
    typer.echo(f"  {'opsbot serve':<14} 127.0.0.1:{sb.serve_port()} (webhooks.port: the sandbox's Alertmanager "
               f"posts to {intake_url(sb.serve_port())})")
    typer.echo(f"settings: {sb.settings_file}")


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
        fail(str(e))
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
        fail(str(e))
    typer.echo(f"{path}: valid scenario {sc.name!r}")
