"""The `/baton` and `@Baton` grammar: one registry of typed async commands shared by Slack and Teams."""
