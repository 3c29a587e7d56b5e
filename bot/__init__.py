"""opsbot, the application: one package per pipeline stage over a few foundations.

intake → triage → guard → cards, and chat beside them; cli is the `opsbot` command.
"""
