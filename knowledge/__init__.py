"""The knowledge layer: playbooks and past incidents in Chroma, outcome learning in Redis.

It imports nothing of bot/ or tools/: what it needs (the tools to check playbooks against) is passed in.
"""
