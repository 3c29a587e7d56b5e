"""Tests of alert intake: webhooks, the stream, incidents, workers, Alertmanager and Sentry end to end."""
