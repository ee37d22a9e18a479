"""Helpers shared by the test tiers (plain code; the conftest files make fixtures of them)."""
