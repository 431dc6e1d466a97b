"""Fake external services for tests: real HTTP servers on ephemeral ports that record what Baton sent."""
