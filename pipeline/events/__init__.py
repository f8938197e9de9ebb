"""Provider events (bounces, complaints, unsubscribes…) flowing back into the list."""
