"""The welcome series: a few emails after a reader confirms, each once (see README)."""
