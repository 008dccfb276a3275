"""Kefu: a bilingual customer-service bot for online shops, with human handoff."""
