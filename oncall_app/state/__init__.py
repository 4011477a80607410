"""Reflex states. Page states subclass SessionState so every handler can reach the actor."""
