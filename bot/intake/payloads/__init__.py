"""What each sender posts: its payload's shape (checked by the webhook for a precise 4xx) and the Alerts a
stored delivery holds (built by the triage worker, off the request path)."""
