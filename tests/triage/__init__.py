"""Tests of triage: the playbook run, the model's analysis, the knowledge hook."""
