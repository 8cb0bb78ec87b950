"""API keys get the Mosquitto password hash of their token (for MQTT logins on Mosquitto).

Keys issued before this revision have none: re-issue them to use them with Mosquitto.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0002"
down_revision: str | Sequence[str] | None = "core_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_key", sa.Column("mqtt_password_hash", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("mqtt_password_hash")
