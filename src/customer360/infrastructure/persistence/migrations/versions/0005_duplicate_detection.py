"""Duplicate detection: blocking keys, match models, candidate pairs, scan jobs.

Revision ID: 0005_duplicate_detection
Revises: 0004_read_functions
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0005_duplicate_detection"
down_revision = "0004_read_functions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
