"""What the tests share: fakes of third-party APIs that check what the real ones check, and helpers."""
