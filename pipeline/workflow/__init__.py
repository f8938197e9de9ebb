"""The use cases every front end calls: the CLI, the desk, the API and the scheduler.

Each is written once here, on top of the stages (content, issues, delivery, events,
subscribers), which never import this package:

- ``weekly``: the week to work on, build, draft, send, preview (``pulse issue build|send``)
- ``check``: the one verdict on an issue, readiness and lint together
- ``decisions``: hold, approve, discard and "send now", through the issue state machine
- ``calendar``: when the next issue goes out and which week editors prepare
- ``worker``: the send loop that starts requested sends and joins sends in progress
- ``intake``: the daily fetch of job boards and feeds
- ``analytics``: the issue report, the delivery ledger, the retry of fixable failures
- ``configs``: the small frozen configs the stages get, built from ``Settings``
"""
