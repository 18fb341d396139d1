"""Who is calling and what they may do: bearer tokens, API keys, the audit log."""
