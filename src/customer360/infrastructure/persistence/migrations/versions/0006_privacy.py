"""Privacy: consent expiry and double opt-in, legal holds, erasure requests, suppression list, access log.

Revision ID: 0006_privacy
Revises: 0005_duplicate_detection
Create Date: 2026-11-27
"""

from __future__ import annotations

revision = "0006_privacy"
down_revision = "0005_duplicate_detection"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
