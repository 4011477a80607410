"""Schedules: rotations, layers, overrides, swaps, calendar feeds and who is on call."""
