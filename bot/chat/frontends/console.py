"""The console frontend: `opsbot chat` interactively, or a script of lines for the demo and tests.

A script line is `[as IDENTITY:] TEXT`, e.g. `as slack:U0LEAD: approve $last`; `$last` is the id of the last
action a card proposed, `#` starts a comment. Cards print as plain text. `opsbot chat` builds it with
`switch=False`: there it speaks only as cli.identity, and an `as IDENTITY:` line is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog

from bot.cards.text import render_text
from bot.chat.conversation import Conversation, Reply
from bot.chat.frontends import messages

LINE = re.compile(r"^as\s+(?P<who>[^\s:]+:[^\s:]+):\s*(?P<text>.*)$")
PROMPT = "{who}> "
log = structlog.get_logger(__name__)


@dataclass
class Console:
    chat: Conversation
    identity: str
    echo: Callable[[str], None] = print
    thread: str = "console"
    switch: bool = True  # whether `as WHO:` lines may speak as another identity (tests, scripted transcripts)
    last_action: str | None = None
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str, identity: str | None = None) -> Reply:
        """One line from a person: a command or a question, answered with text and maybe a card."""
        who = identity or self.identity
        text = self._expand(text)
        words = text.split()
        try:
            if words and words[0].lower() in ("approve", "deny") and len(words) == 2:
                result = self.chat.click(words[1].lstrip("#"), who, approve=words[0].lower() == "approve")
                reply = Reply(text=result.reply.text, card=result.updated, private=result.reply.private)
            else:
                reply = self.chat.ask(text, self.thread, who, lambda line: self.echo(f"  … {line}"))
        except Exception:  # the console is an edge too: a sentence, not a trace
            log.exception("console_line_failed", who=who)
            reply = Reply(text=messages.FAILED, private=True)
        self.replies.append(reply)
        self.echo(("opsbot (only you see this)> " if reply.private else "opsbot> ") + reply.text)
        if reply.card is not None:
            self.echo(render_text(reply.card))
            pending = [a.action_id for a in reply.card.actions if a.status == "pending" and a.action_id]
            if pending:
                self.last_action = pending[-1]
        return reply

    def line(self, raw: str) -> Reply | None:
        """A script line: `as WHO: TEXT` or TEXT as the default identity; blank lines and # comments skipped."""
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            return None
        m = LINE.match(raw)
        who, text = (m["who"], m["text"]) if m else (self.identity, raw)
        self.echo(PROMPT.format(who=who) + self._expand(text))
        return self._refuse_switch() if m and not self.switch else self.say(text, who)

    def _refuse_switch(self) -> Reply:
        reply = Reply(text=messages.SPEAKS_AS.format(identity=self.identity), private=True)
        self.replies.append(reply)
        self.echo("opsbot (only you see this)> " + reply.text)
        return reply

    def _expand(self, text: str) -> str:
        return text.replace("$last", self.last_action) if self.last_action else text

    def script(self, lines: Iterable[str]) -> list[Reply]:
        return [r for r in (self.line(raw) for raw in lines) if r is not None]

    def interactive(self, read: Callable[[str], str] = input) -> None:
        """Read lines until EOF or `quit`; `as WHO: TEXT` switches identity for one line."""
        self.echo(f"opsbot chat as {self.identity}; `help` for commands, `quit` to leave.")
        while True:
            try:
                raw = read(PROMPT.format(who=self.identity))
            except (EOFError, KeyboardInterrupt):
                return
            if raw.strip() in ("quit", "exit"):
                return
            m = LINE.match(raw.strip())
            if m and not self.switch:
                self._refuse_switch()
            elif m:
                self.say(m["text"], m["who"])
            elif raw.strip():
                self.say(raw.strip())
