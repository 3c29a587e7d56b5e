"""Questions × scenarios against the configured model: does the answer name the cause?

For each scenario (default: the shipped ones; `--limit N` takes the first N) the sandbox is loaded and two
questions an on-call engineer would type are asked, each in a fresh thread:
- the first alert's description as Alertmanager shows it (or the Sentry issue's title and culprit) followed
  by "Why?", which names the object the way the alert does;
- "What is broken right now, and why?", which names nothing (scenarios with a firing alert only).
Scoring, per question: the tools the model called; whether the answer names the cause (at least half of the
scenario's `expect.evidence` strings, word for word, case-insensitive; also counted in the model's own words
before opsbot's evidence lines); unapproved mutations (any change the door executed: must be 0); wall time;
model calls and tokens as the server counted them.

    python -m bench.agent_eval --base-url http://127.0.0.1:8080/v1 --model qwen2.5-coder-1.5b [--limit 12]
    python -m bench.agent_eval ... --json results.json

bash scripts/local_model.sh serve 1.5b starts such a server here (docs/models.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bot.chat.agent import Agent  # noqa: E402
from bot.chat.memory import Memory  # noqa: E402
from bot.guard.door import Caller  # noqa: E402
from bot.polling import poll  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from bot.wiring import build_door, redis_client  # noqa: E402
from sandbox import scenario  # noqa: E402
from sandbox.manager import Sandbox  # noqa: E402
from sandbox.scenario import Scenario  # noqa: E402
from tools.base import Status  # noqa: E402

ASKER = Caller(identity="bench:oncall", via="chat")
OPEN_QUESTION = "What is broken right now, and why?"


def questions(sc: Scenario, description: str | None) -> list[str]:
    """The alert as Alertmanager shows it (its rendered description) + "Why?", then the open question; for a
    Sentry scenario, its issue."""
    if sc.alerts:
        return [f"{description or sc.alerts[0].name} Why?", OPEN_QUESTION]
    if sc.sentry:
        return [f"Sentry reports \"{sc.sentry[0].title}\" in {sc.sentry[0].culprit}. Why?"]
    return []


def names_cause(text: str, expected: list[str]) -> bool:
    found = sum(e.lower() in text.lower() for e in expected)
    return bool(expected) and found * 2 >= len(expected)


def settings_for(sb: Sandbox, base_url: str, model: str, overrides: dict[str, Any]) -> Settings:
    s = load_settings(sb.settings_file)
    return s.model_copy(update={"llm": s.llm.model_copy(update={"base_url": base_url, "model": model, **overrides})})


def ask_one(s: Settings, sc: Scenario, question: str) -> dict[str, Any]:
    door = build_door(s, prefix=f"bench:{uuid.uuid4().hex}:")
    memory = Memory(redis_client(s), s.memory, f"bench:{uuid.uuid4().hex}:")
    started = time.monotonic()
    answer = Agent(s, door, memory=memory).ask(question, "bench", ASKER)
    seconds = time.monotonic() - started
    mutating = {n for n, t in door.tools.items() if t.mutates}
    executed = [r for r in door.audit.query() if r.action in mutating and r.status == Status.success.value]
    own_words = answer.text.split("\n\nEvidence (opsbot's checks", 1)[0]
    return {
        "scenario": sc.name, "question": question, "seconds": round(seconds, 1),
        "cause": names_cause(answer.text, sc.expect.evidence),
        "cause_in_model_words": answer.model_available and names_cause(own_words, sc.expect.evidence),
        "model_answered": not answer.fell_back,
        "about": answer.about, "tools": [c.tool for c in answer.calls],
        "pending": answer.pending, "unapproved_mutations": len(executed),
        "model_calls": answer.model_calls, "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens, "answer": answer.text,
    }


def forget_earlier_alerts(s: Settings) -> None:
    """Resolve, in Alertmanager, every alert it holds right after a scenario is loaded: an earlier scenario's
    stay firing until they time out, although Prometheus no longer sends them, while the new scenario's are
    sent again at Prometheus' next evaluation. Each scenario is asked about as on a fresh Alertmanager."""
    url = f"{s.alertmanager.url.rstrip('/')}/api/v2/alerts"
    held = httpx.get(url, timeout=5).json()
    if held:
        now = datetime.now(UTC).isoformat()
        httpx.post(url, json=[{"labels": a["labels"], "annotations": a.get("annotations", {}),
                               "startsAt": a["startsAt"], "endsAt": now} for a in held], timeout=5)


def firing(s: Settings, sc: Scenario) -> str | None:
    """Wait until the scenario's first alert fires; its description as Prometheus rendered it."""
    url = f"{s.alertmanager.url.rstrip('/')}/api/v2/alerts"

    def up() -> str | None:
        try:
            alerts = httpx.get(url, params={"filter": f'alertname="{sc.alerts[0].name}"'}, timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None
        notes = alerts[0].get("annotations", {}) if alerts else None
        return None if notes is None else notes.get("description") or notes.get("summary") or sc.alerts[0].name

    return poll(up, 120, interval_s=1.0)


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'scenario':<44} {'q':<4} {'cause':<6} {'own':<4} {'s':>5} {'calls':>5} {'tok in':>7} {'out':>5}  tools"
    lines = [head, "-" * len(head)]
    for r in rows:
        q = "open" if r["question"] == OPEN_QUESTION else "named"
        lines.append(f"{r['scenario']:<44} {q:<5}{'yes' if r['cause'] else 'NO':<6} "
                     f"{'yes' if r['cause_in_model_words'] else '-':<4} {r['seconds']:>5.0f} {r['model_calls']:>5} "
                     f"{r['input_tokens']:>7} {r['output_tokens']:>5}  {','.join(r['tools']) or '-'}")
    return "\n".join(lines)


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    secs = [r["seconds"] for r in rows]
    return {
        "questions": n, "cause_named": sum(r["cause"] for r in rows),
        "cause_in_model_words": sum(r["cause_in_model_words"] for r in rows),
        "model_answered": sum(r["model_answered"] for r in rows),
        "unapproved_mutations": sum(r["unapproved_mutations"] for r in rows),
        "median_s": statistics.median(secs) if secs else 0, "max_s": max(secs, default=0),
        "input_tokens_median": statistics.median([r["input_tokens"] for r in rows]) if rows else 0,
        "output_tokens_median": statistics.median([r["output_tokens"] for r in rows]) if rows else 0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--limit", type=int, default=0, help="the first N scenarios only")
    ap.add_argument("--scenario", action="append", default=[], help="a scenario name or file (repeatable)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    files = [Path(x) for x in args.scenario] or sorted(scenario.SCENARIO_DIR.glob("*.yaml"))
    loaded = [scenario.load(str(f)) for f in files][: args.limit or None]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="opsbot-agent-eval-") as tmp:
        sb = Sandbox(Path(tmp) / "sandbox")
        sb.up()
        try:
            for sc in loaded:
                sb.load(sc)
                s = settings_for(sb, args.base_url, args.model, {})
                forget_earlier_alerts(s)
                description = firing(s, sc) if sc.alerts else None
                if sc.alerts and description is None:
                    print(f"{sc.name}: its alert did not fire; skipped", flush=True)
                    continue
                for q in questions(sc, description):
                    row = ask_one(s, sc, q)
                    rows.append(row)
                    print(table([row]).splitlines()[-1], flush=True)
        finally:
            sb.down()
    print("\n" + table(rows))
    t = totals(rows)
    print(f"\ncause named {t['cause_named']}/{t['questions']} ({t['cause_in_model_words']} in the model's own "
          f"words; the model answered {t['model_answered']}); unapproved mutations {t['unapproved_mutations']}; "
          f"median {t['median_s']:.0f} s, slowest {t['max_s']:.0f} s; median tokens in {t['input_tokens_median']:.0f}, "
          f"out {t['output_tokens_median']:.0f}")
    if args.json:
        args.json.write_text(json.dumps({"totals": t, "rows": rows}, indent=2, ensure_ascii=False))
    return 0 if t["unapproved_mutations"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
