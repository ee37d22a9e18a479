"""Duplicate matching and the reversible merge workflow.

Revision ID: 0003_matching_merge
Revises: 0002_integration
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0003_matching_merge"
down_revision = "0002_integration"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
