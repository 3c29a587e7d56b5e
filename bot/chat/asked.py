"""What change a person's words ask for, read in code: from the question, and for a "go ahead" from the answer
the person agrees to; never from what the model calls.

- `about_change(text)`: the words name a change ("restart", "scale", "roll back", "delete", …) or agree to one
  ("go ahead", "do it", "approve"); a question about a change (or following an answer about one) is offered the
  changing tools;
- `asked_for(tool, args, question, last_answer, about)`: the question names this tool's change and the object
  it changes (or agrees to the change the last answer named); `about` is what the question's evidence is about.
  A change the model puts forward that the person did not ask for is the model's own, and is recorded so.
"""

from __future__ import annotations

import re
from typing import Any

# each changing tool's verbs, as people say them
VERBS = {
    "k8s_rollout_restart": re.compile(r"\b(?:restart|bounce|redeploy)\b", re.IGNORECASE),
    "k8s_scale": re.compile(r"\b(?:scale|replicas?)\b", re.IGNORECASE),
    "k8s_rollback": re.compile(r"\b(?:roll ?back|undo|revert)\b", re.IGNORECASE),
    "k8s_delete_pod": re.compile(r"\b(?:delete|kill)\b", re.IGNORECASE),
}
_GO_AHEAD = re.compile(r"\b(?:approve|do it|go ahead)\b", re.IGNORECASE)
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


def about_change(text: str) -> bool:
    return bool(_GO_AHEAD.search(text)) or any(v.search(text) for v in VERBS.values())


def _names(*texts: str) -> set[str]:
    return {w for t in texts for w in _NAME.findall(t.lower()) if len(w) >= 3}


def _named(args: dict[str, Any], names: set[str]) -> bool:
    """The object the call changes is one the words name (a pod by its own name or its workload's)."""
    if args.get("deployment"):
        return str(args["deployment"]).lower() in names
    if args.get("pod"):
        pod = str(args["pod"]).lower()
        return pod in names or any(pod.startswith(f"{n}-") for n in names)
    return True


def asked_for(tool: str, args: dict[str, Any], question: str, last_answer: str = "", about: str | None = None) -> bool:
    """Whether the person asked for this change (see the module doc)."""
    verbs = VERBS.get(tool)
    if verbs is None:
        return False
    if verbs.search(question):
        return _named(args, _names(question, about or ""))
    if _GO_AHEAD.search(question) and verbs.search(last_answer):
        return _named(args, _names(question, last_answer, about or ""))
    return False
