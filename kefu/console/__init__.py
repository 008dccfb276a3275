"""The agents' takeover console at /console: sign-in, the live queue, conversations, replies and notes."""
