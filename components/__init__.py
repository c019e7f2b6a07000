"""Reusable ComponentResources of the HSE Digital platform, one per module."""
