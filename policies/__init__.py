"""The policy layer: the policy file's schema and its one enforcement point.

The lowest layer: it imports nothing of ours, so the strict data-file loading and the duration syntax that
policies, playbooks and scenarios share live here.
"""
