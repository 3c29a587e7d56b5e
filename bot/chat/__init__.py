"""Chat: the conversation core every frontend shares, the agent, its memory, and the frontends."""
