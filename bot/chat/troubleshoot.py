"""`troubleshoot SERVICE` in chat: the deterministic playbook run (no model), told as a reply."""

from __future__ import annotations

from bot.chat.conversation import Progress, Reply, Troubleshooter
from bot.chat.readable import result_text
from bot.guard.door import Caller, Door
from bot.triage.troubleshoot import Troubleshooting, troubleshoot
from knowledge.client import KnowledgeUnavailable


def as_reply(t: Troubleshooting) -> Reply:
    if not t.found:
        return Reply(text=t.message, private=True)
    parts = [t.message]
    parts += [result_text(r, limit=10) for r in t.evidence]
    if t.skipped:
        parts.append("skipped: " + "; ".join(t.skipped))
    if t.diagnosis and t.diagnosis.advice:
        parts.append(f"what a person should do: {t.diagnosis.advice}")
    for p in t.proposals:
        target = "/".join(str(p.args[k]) for k in ("namespace", "deployment", "pod") if k in p.args)
        mark = " (recommended)" if p.recommended else ""
        why = f"; {p.reason}" if p.reason else ""
        parts.append(f"proposed{mark}: {p.tool} {target}: {p.when}{why}")
    return Reply(text="\n\n".join(parts))


def troubleshooter(door: Door, namespaces: list[str]) -> Troubleshooter:
    """Try the given namespace, else each chat namespace in turn, until the service is found."""

    def run(service: str, namespace: str | None, caller: Caller, progress: Progress) -> Reply:
        progress(f"running the playbook checks for {service}…")
        try:
            store = door.ctx.backends.knowledge
        except KnowledgeUnavailable as e:  # a sentence naming the server and the setting
            return Reply(text=str(e), private=True)
        result = None
        for ns in [namespace] if namespace else namespaces:
            result = troubleshoot(door, store, caller, ns, service)
            if result.found:
                break
        assert result is not None
        return as_reply(result)

    return run
