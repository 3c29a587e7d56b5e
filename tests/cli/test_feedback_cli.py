"""`opsbot incident feedback ID MARK [--note]` as a person types it, against the session sandbox: the card shows the
mark, the audit log says who and what (the record the false-alarm count of `opsbot report` reads); a mark that is none or
an incident without a card is a sentence and exit 1, never a trace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from typer.testing import CliRunner

from bot import messages
from bot.cards.model import Card
from bot.cards.store import CardStore
from bot.cli.main import app
from bot.settings import load_settings
from bot.wiring import build_door, redis_client
from sandbox.manager import Sandbox

STARTED = datetime(2001, 9, 9, 1, 46, tzinfo=UTC)  # a moment no other incident of the session began at


def test_a_false_alarm_marked_from_the_command_line(sandbox: Sandbox) -> None:
    config, s = str(sandbox.settings_file), load_settings(sandbox.settings_file)
    incident = f"inc-fb{uuid.uuid4().hex[:6]}"
    store = CardStore(redis_client(s), s.redis.key_prefix)
    store.save(Card(incident_id=incident, title="KubePodNotReady: cart is not ready", severity="P3",
                    status="resolved", source="alertmanager", failing="cart is not ready", started_at=STARTED,
                    updated_at=STARTED))

    run = CliRunner().invoke(app, ["incident", "feedback", incident, "false-alarm", "--note", "chaos drill",
                                   "--config", config])
    assert run.exit_code == 0, run.output
    assert run.output.strip() == messages.FEEDBACK_TAKEN.format(id=incident, words="false alarm", who="cli:demo")
    fb = store.get(incident).feedback
    assert fb is not None and (fb.mark, fb.by, fb.note) == ("false_alarm", "cli:demo", "chaos drill")
    [audited] = build_door(s).audit.query(incident=incident)  # where `opsbot report` counts the false alarms
    assert (audited.kind, audited.identity, audited.status) == ("feedback", "cli:demo", "success")
    assert audited.summary == "false alarm: chaos drill"

    bad = CliRunner().invoke(app, ["incident", "feedback", incident, "maybe", "--config", config])
    assert bad.exit_code == 1 and messages.FEEDBACK_MARKS.format(got="maybe") in bad.output
    gone = CliRunner().invoke(app, ["incident", "feedback", "inc-none", "wrong-cause", "--config", config])
    assert gone.exit_code == 1 and messages.FEEDBACK_NO_CARD.format(id="inc-none") in gone.output
    assert "Traceback" not in bad.output + gone.output
