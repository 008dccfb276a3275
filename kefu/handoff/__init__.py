"""Human handoff: when to hand a conversation to a person, and the state that keeps the bot quiet meanwhile."""
