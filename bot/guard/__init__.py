"""The guard: the one door every tool call passes, the action gate, approvals and the audit log."""
