"""Frozen dataclasses passed from sources to widgets, one module per domain."""
