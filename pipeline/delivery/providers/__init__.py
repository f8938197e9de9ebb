"""Email provider adapters behind one interface (see :mod:`.base`)."""
