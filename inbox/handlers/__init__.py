"""Inbox layer: one handler module per activity family."""
