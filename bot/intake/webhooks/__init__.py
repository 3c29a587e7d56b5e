"""HTTP intake: Alertmanager and Sentry webhooks, checked, masked and stored durably as one entry per delivery
(the triage worker builds the `bot.intake.alert.Alert`s)."""
