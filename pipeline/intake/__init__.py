"""Intake: job postings from public job boards and Quick Links from feeds, into a review queue.

A stage of its own (like ``content`` or ``issues``): it receives a frozen
:class:`~pipeline.intake.fetch.IntakeConfig` and an HTTP client, never the wiring.
"""
