"""Tests of the `opsbot` command."""
