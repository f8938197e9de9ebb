"""The shared test harness: one live server, one Chromium, one seeded week.

- :func:`tests.harness.server.serving` serves an app on an ephemeral 127.0.0.1 port
  (fixture ``live_server`` in tests/conftest.py);
- :mod:`tests.harness.browser` finds Debian's Chromium (fixture ``chromium``: a launched
  browser);
- :func:`tests.harness.seed.seed_week_of` seeds a week's content and readers;
- tests/conftest.py's ``make_pulse`` builds the wiring with settings overrides, and
  ``pulse`` is the wiring with none.
"""
