"""Issue assembly, rendering and lint."""
