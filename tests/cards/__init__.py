"""Tests of cards: rendering per platform and posting through the chat posters."""
