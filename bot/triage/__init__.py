"""Triage: from an incident's alert to a card: playbook diagnosis, read evidence, the model's analysis, proposals."""
