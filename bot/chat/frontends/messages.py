"""What the frontends themselves say (the conversation's own sentences live in bot.messages)."""

from __future__ import annotations

FAILED = ("Sorry, something went wrong on my side and I could not finish that. The details are in opsbot's log; "
          "`audit` shows what ran.")
WORKING = "working on it…"
CUT = "… (cut to fit {platform}'s message limit; ask a narrower question for the rest)"
ASKED = "<@{user}> asked `/opsbot {text}`"
NOT_IN_CHANNEL = ("I cannot post in this channel; invite me with `/invite @opsbot`. "
                  "Here is my answer, for you only:\n{text}")
UNKNOWN_BUTTON = "I do not know that button; it may be from an older version of opsbot. Nothing was done."
DECISION = "{outcome} ({who}, {when:%Y-%m-%d %H:%M:%S} UTC)"
CHAT_NOT_ALLOWED = ("opsbot does not answer in this chat (id {chat_id}). An admin can allow it with "
                    "telegram.allowed_chat_ids; I will not repeat this message.")
CLICK_NOT_ALLOWED = "opsbot does not take decisions from this chat; nothing was done."
UNSIGNED = ("the request is not signed with opsbot's Slack signing secret, or its timestamp is more than five "
            "minutes from now")
SPEAKS_AS = ("`as IDENTITY:` is not available in `opsbot chat`: it speaks as {identity} (the setting cli.identity, "
             "default cli:<OS user>). Nothing was done.")
