"""Delivery: the outbox worker and the platform-neutral thread sync it runs for each target."""
