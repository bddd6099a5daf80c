"""Channels: the plugin API for outbound messages, the built-in channels, delivery tracking,
consent-aware sending and third-party webhooks. Other components use `service.py` only."""
