"""The channel-neutral core: intake, summaries, conversation rules. No platform SDK is imported here."""
