"""The subscriber-facing web pages: signup, confirm, unsubscribe, preferences."""
