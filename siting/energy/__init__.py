"""Hourly profiles, representative days and storage inputs, cooling by climate."""
