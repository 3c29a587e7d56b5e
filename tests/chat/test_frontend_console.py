"""The console frontend: a scripted shift, as the demo runs it, and the cards it prints."""

from __future__ import annotations

from bot.chat.frontends.console import Console
from bot.settings import Settings
from tests.support.chatkit import conversation, executions, replicas
from tests.support.doors import Clock

SCRIPT = """
# the operator asks, a viewer tries, the lead approves, a second click does nothing
as slack:U0OPERATOR: scale checkout to 6
as slack:U0VIEWER: approve $last
as slack:U0LEAD: approve $last
as slack:U0LEAD: approve $last
"""


def test_scripted_shift(mutable_settings: Settings) -> None:
    chat = conversation(mutable_settings, Clock())
    out: list[str] = []
    console = Console(chat, "cli:tester", out.append)
    proposed, viewer, lead, again = console.script(SCRIPT.splitlines())
    assert proposed.card and proposed.card.actions[0].status == "pending"
    assert viewer.private and "may not approve" in viewer.text and viewer.card is None
    assert not lead.private and lead.text == "done: scale shop/checkout from 3 to 6 replicas"
    assert lead.card and lead.card.actions[0].status == "executed"
    assert again.private and again.card is None
    transcript = "\n".join(out)
    assert "slack:U0LEAD> approve " in transcript and "$last" not in transcript
    assert "— executed (" in transcript and "decided by slack:U0LEAD" in transcript
    assert replicas(chat.door) == 6 and executions(chat.door) == ["success"]


def test_interactive_reads_until_quit(mutable_settings: Settings) -> None:
    lines = iter(["help", "as slack:U0ADMIN: policy whatcan", "quit", "never read"])
    out: list[str] = []
    Console(conversation(mutable_settings, Clock()), "slack:U0VIEWER", out.append).interactive(lambda _: next(lines))
    assert any("I am opsbot" in o for o in out) and any("slack:U0ADMIN: roles admin" in o for o in out)
    assert not any("never read" in o for o in out)
