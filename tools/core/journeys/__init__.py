"""Journeys, pure: the workflow model, its definition format, and the step interpreter."""
