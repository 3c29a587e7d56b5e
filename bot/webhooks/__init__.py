"""HTTP intake: Alertmanager and Sentry webhooks, parsed into `bot.alert.Alert` and stored durably."""
