"""`--cluster NAME` after a chat command's target (`troubleshoot checkout --cluster b`): the caller on that cluster."""

from __future__ import annotations

from bot.guard.door import Caller


def on_cluster(caller: Caller, words: list[str]) -> Caller:
    """The caller on the cluster the words name (`--cluster b` or `cluster b`); unchanged when they name none. The
    name is checked where it is used: an unknown one is refused there, listing the clusters."""
    if len(words) == 2 and words[0] in ("--cluster", "cluster"):
        return caller.model_copy(update={"cluster": words[1]})
    return caller
