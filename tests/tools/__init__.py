"""Tests of the tools against real local backends through the door."""
