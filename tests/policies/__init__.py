"""Tests of the policy engine: decision tables."""
