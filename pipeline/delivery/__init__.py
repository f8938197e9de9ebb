"""Sending an issue: the deliveries outbox, the send engine and provider adapters."""
