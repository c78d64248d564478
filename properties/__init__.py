"""Hypothesis strategies and the registry of checkable claims (``attnflow.properties``)."""

__all__: list[str] = []
