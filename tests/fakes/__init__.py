"""Local fakes of third-party APIs (Slack Web API, Telegram Bot API) that check what the real ones check."""
