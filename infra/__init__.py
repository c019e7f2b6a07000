"""The HSE Digital multi-region platform program and its operator tools."""
