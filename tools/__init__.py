"""Tools: one module per backend; each tool a typed function with its argument model, result and risk.

It imports nothing of bot/: the settings and clients it needs are protocols in tools.context.
"""
