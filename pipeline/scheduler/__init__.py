"""The weekly clock: when the issue goes out, and what happens when it is not ready."""
