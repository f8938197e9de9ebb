"""``python -m pipeline``: the same command line as ``pulse``."""

from __future__ import annotations

from pipeline.cli import main

if __name__ == "__main__":
    main()
