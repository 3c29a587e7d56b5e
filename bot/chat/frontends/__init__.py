"""Chat frontends: each translates its platform's events into Conversation.ask / command / click and renders
the replies and cards; nothing about policy, tools or the agent lives here."""
