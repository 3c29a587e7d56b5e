"""Cards: one model of what triage found, rendered per platform, posted once per incident and then edited."""
