"""HTTP intake: Alertmanager and Sentry webhooks, parsed into `bot.intake.alert.Alert` and stored durably."""
