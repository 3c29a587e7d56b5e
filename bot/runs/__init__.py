"""End-to-end runs on the sandbox: the demo, and the evaluation of triage on scenarios."""
