"""`opsbot knowledge …` and `opsbot troubleshoot SERVICE`: the knowledge store from the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from bot.cli import common
from bot.cli.common import ConfigOpt
from policies.yamlfile import FileError

if TYPE_CHECKING:
    from bot.guard.door import Caller, Door
    from bot.settings import Settings
    from bot.triage.troubleshoot import Troubleshooting
    from knowledge.store import KnowledgeStore

knowledge_app = typer.Typer(no_args_is_help=True, help="Playbooks and past incidents: ingest, search.")
EVIDENCE_LINES = 3  # a read's summary lines shown without --verbose



def _store(config: Path | None) -> KnowledgeStore:
    """Chroma is imported late: it is slow to import and most commands do not need it."""
    from knowledge.client import KnowledgeUnavailable
    from knowledge.store import KnowledgeStore
    from tools.catalog import tool_map

    k = common.settings(config).knowledge
    try:
        return KnowledgeStore.open(k.path, tool_map(), k.playbooks_dir, url=k.chroma_url)
    except KnowledgeUnavailable as e:
        common.fail(str(e))


@knowledge_app.command("ingest")
def ingest_cmd(
    folder: Annotated[Path | None, typer.Argument(help="folder of playbooks (*.md); default: the shipped ones")] = None,
    config: ConfigOpt = None,
) -> None:
    """Validate and store playbooks (by name: an existing one is replaced)."""
    settings = common.settings(config)
    folder = folder or settings.knowledge.playbooks_dir
    try:
        count = _store(config).ingest_playbooks(folder)
    except FileError as e:
        common.fail(str(e))
    typer.echo(f"ingested {count} playbooks from {folder} into {settings.knowledge.path}")


@knowledge_app.command("search")
def search_cmd(
    text: str,
    kind: Annotated[str, typer.Option(help="playbooks, incidents or both")] = "both",
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="how many hits")] = 5,
    config: ConfigOpt = None,
) -> None:
    """Search playbooks and past incidents by meaning."""
    if kind not in ("playbooks", "incidents", "both"):
        common.fail(f"unknown kind {kind!r}; one of playbooks, incidents, both")
    which: Literal["playbooks", "incidents", "both"] = kind  # type: ignore[assignment]
    hits = _store(config).search(text, k, which)
    if not hits:
        typer.echo("nothing stored yet; `opsbot knowledge ingest` loads the shipped playbooks")
    for h in hits:
        typer.echo(f"{h.score:5.2f}  {h.kind:<8} {h.id:<20} {h.title}")
        if h.incident is not None:
            typer.echo(f"       outcome {h.incident.outcome}; {h.excerpt}")


def troubleshoot_cmd(
    service: Annotated[str, typer.Argument(help="the service (deployment) name, e.g. checkout")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="its namespace, e.g. shop")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="every read's full result, not its summary")] = False,
    cluster: Annotated[str | None, typer.Option("--cluster", help="the cluster (of kubernetes.clusters) it runs in; "
                                                "default: the default one")] = None,
    config: ConfigOpt = None,
) -> None:
    """Run the matching playbook's diagnosis for a service and print the conclusion, then the evidence; nothing is
    changed."""
    from bot.guard.door import Caller
    from bot.wiring import build_door

    settings = common.settings(config)
    caller = Caller(identity=common.me(settings), via="cli", cluster=cluster)
    report = diagnose(settings, build_door(settings), caller, namespace, service)
    if isinstance(report, str):
        common.fail(report)
    typer.echo(troubleshooting_text(report, verbose))


def diagnose(settings: Settings, door: Door, caller: Caller, namespace: str, service: str) -> Troubleshooting | str:
    """`opsbot troubleshoot`'s run (outcome learning when Redis has it), or why it could not run, in words."""
    from bot.triage.troubleshoot import troubleshoot
    from bot.wiring import outcomes
    from knowledge.client import KnowledgeUnavailable
    from knowledge.outcomes import OutcomesUnavailable

    try:
        store = door.ctx.backends.knowledge
    except KnowledgeUnavailable as e:
        return str(e)
    try:
        report = troubleshoot(door, store, caller, namespace, service, outcomes=outcomes(settings))
    except OutcomesUnavailable:
        report = troubleshoot(door, store, caller, namespace, service)
    return report if report.found else report.message


def troubleshooting_text(report: Troubleshooting, verbose: bool) -> str:
    """The answer first (the cause, what to do, the actions), then a few lines per read; `verbose`: every result."""
    from bot.triage.evidence import summarise

    assert report.playbook is not None
    out = [report.message]
    if report.diagnosis and report.diagnosis.advice:
        out.append(f"what a person should do: {report.diagnosis.advice}")
    if report.proposals:
        out.append("proposed actions (not run; `opsbot tool NAME --arg value` asks the policy):")
    for p in report.proposals:
        mark = "*" if p.recommended else "-"
        args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in p.args.items())
        why = f" [{p.reason}]" if p.reason else ""
        out.append(f"  {mark} opsbot tool {p.tool} {args}: when {p.when}{why}")
    fold = "" if verbose else "; `--verbose` prints every result in full"
    out.append(f"\nevidence ({len(report.evidence)} reads, playbook {report.playbook.name}: "
               f"{report.playbook.title}, {report.matched_by}{fold}):")
    for result in report.evidence:
        if verbose:
            out.append(common.result_lines(result))
            continue
        lines = summarise(result)
        status = "ERROR" if result.error else ("no data" if lines and lines[0].status == "no_data" else "ok")
        out.append(f"  $ {result.invocation}  [{status}]")
        shown = [result.error] if result.error else [line.text for line in lines][:EVIDENCE_LINES]
        out.append("\n".join(f"      {text}" for text in shown if text))
        if not result.error and len(lines) > EVIDENCE_LINES:
            out.append(f"      … {len(lines) - EVIDENCE_LINES} more")
    for line in report.skipped:
        out.append(f"  skipped: {line}")
    return "\n".join(out)


knowledge_app.command("troubleshoot")(troubleshoot_cmd)
