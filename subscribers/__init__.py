"""The subscriber store and everything a subscriber touches.

This package never imports :mod:`pipeline`; the wiring hands it what it needs.
"""
