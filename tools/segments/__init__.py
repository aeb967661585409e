"""Segments: dynamic (rules) and manual audiences, membership kept current in real time."""
