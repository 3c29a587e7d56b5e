"""The settings explained: the reference of every key, the effective values, and the check of what they mean."""
