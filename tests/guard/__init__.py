"""Tests of the guard: the one door, the action gate, approvals and the audit log."""
