"""Baton: customer handoff from virtual agents and inbound channels to agents in Slack and Teams."""
