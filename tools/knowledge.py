"""The knowledge tool: playbooks and past incidents, searched by meaning."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tools.base import Args, BackendError, ToolResult, empty, ok, tool
from tools.context import ToolContext


class KnowledgeSearchArgs(Args):
    text: str = Field(min_length=3, max_length=500, description="what to look for, e.g. 'pods OOMKilled after deploy'")
    kind: Literal["playbooks", "incidents", "both"] = Field("both", description="where to search")
    k: int = Field(3, ge=1, le=10, description="how many hits")


def _hit(h: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": h.kind, "id": h.id, "title": h.title, "score": h.score, "excerpt": h.excerpt}
    if h.playbook is not None:
        row["diagnosis"] = [s.render() for s in h.playbook.diagnosis]
        row["remediation"] = [f"{a.render()} when {a.when}" for a in h.playbook.remediation]
        row["recommended"] = h.playbook.recommended
    if h.incident is not None:
        i = h.incident
        row.update(failure_mode=i.kind, outcome=i.outcome, root_cause=i.root_cause, actions=i.actions,
                   time_to_resolve_s=i.time_to_resolve_s, started_at=i.started_at.isoformat())
    return row


@tool("knowledge")
def knowledge_search(ctx: ToolContext, args: KnowledgeSearchArgs) -> ToolResult:
    """Search runbooks (playbooks: diagnosis steps, fixes) and past incidents (root cause, actions,
    outcome) by meaning. Best hits first, with a similarity score."""
    invocation = knowledge_search.summary(args)
    try:
        store = ctx.backends.knowledge
        hits = store.search(args.text, args.k, args.kind)
    except Exception as e:  # Chroma or the model: say which store failed, not a traceback
        raise BackendError("knowledge", str(ctx.settings.knowledge.path), f"search {args.text!r}",
                           f"{type(e).__name__}: {str(e)[:200]}") from None
    if not hits:
        return empty(knowledge_search.name, invocation,
                     f"no {args.kind if args.kind != 'both' else 'playbooks or incidents'} stored in "
                     f"{ctx.settings.knowledge.path}; `opsbot knowledge ingest` loads the playbooks")
    return ok(knowledge_search.name, invocation, {"hits": [_hit(h) for h in hits]})


TOOLS = [knowledge_search]
