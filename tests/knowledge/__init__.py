"""Tests of the knowledge store, playbooks and outcome learning."""
