"""Scores per symbol for the latest session from the champion model."""
