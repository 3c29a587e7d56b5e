"""Tests of chat: the conversation core, the agent and its memory, the Slack, Telegram and console frontends."""
