"""The weekly job: content queue, issue assembly, rendering, delivery, scheduling and wiring."""
