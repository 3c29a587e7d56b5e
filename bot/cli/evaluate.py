"""`opsbot eval`: scenarios through the real alert path, each card scored against the scenario's `expect`."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import fail
from bot.runs.evaluation import line, load_all, report, run, scenario_files
from sandbox import procs
from sandbox.manager import KUBERNETES, Sandbox


def eval_cmd(
    paths: Annotated[list[Path] | None, typer.Argument(help="scenario files or folders (default: the shipped)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write scores, totals, each card's "
                                                                     "text and its Card JSON")] = None,
    state_dir: Annotated[Path | None, typer.Option("--dir", help="a sandbox to use (default: one of its own, "
                                                                 "started and stopped here); one that is not "
                                                                 "up is started and stopped")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each card")] = 90,
    kubernetes: Annotated[str | None, typer.Option("--kubernetes", help="the sandbox's Kubernetes: 'emulator' "
                                                   "or 'real' (the real control plane); default: what the --dir "
                                                   "sandbox runs, else the emulator")] = None,
) -> None:
    """Run each scenario's alerts through Prometheus → Alertmanager → webhook → worker → card; score the cards.
    Exits 1 when any scenario falls below its own `expect`."""
    if kubernetes is not None and kubernetes not in KUBERNETES:
        fail(f"--kubernetes must be one of {', '.join(KUBERNETES)}, not '{kubernetes}'")
    files = scenario_files(paths or [])
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"no such scenario file: {', '.join(missing)}")
    loaded = load_all(files)
    valid = any(not isinstance(sc, str) for _, sc in loaded)
    with tempfile.TemporaryDirectory(prefix="opsbot-eval-") as tmp:
        work = Path(tmp)
        sb = Sandbox(state_dir or work / "sandbox", kubernetes=kubernetes) if valid else None
        started = sb is not None and not all(sb.status().values())  # ours to stop when done
        try:
            if sb:
                sb.up()
            scores = run(sb, loaded, work, timeout, progress=lambda s: typer.echo(line(s)))
        except procs.SandboxError as e:
            fail(f"eval stopped: {e}")
        finally:
            if sb and (state_dir is None or started):
                sb.down()
    result = report(scores)
    t = result["totals"]
    typer.echo(
        f"\n{t['passed']}/{t['scenarios']} scenarios meet their expect; cards {t['cards']}/{t['scenarios']}; "
        f"evidence {t['evidence_found']}/{t['evidence_expected']}; "
        f"diagnosis {t['diagnosis_found']}/{t['diagnosis_expected']}; playbook {t['playbook_matched']}/"
        f"{t['playbook_expected']}; expected actions {t['actions_proposed_as_expected']}/{t['actions_expected']}; "
        f"unexpected actions {t['unexpected_actions']}; slowest card {t['seconds_per_card_max']:.0f}s")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
        typer.echo(f"scores and card texts written to {json_out}")
    if t["passed"] < t["scenarios"]:
        raise typer.Exit(1)
