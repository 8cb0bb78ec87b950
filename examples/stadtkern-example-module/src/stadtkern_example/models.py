"""Tables of the example module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from stadtkern.db import Base, TenantScoped, utcnow
from stadtkern.db.base import BigId


class Greeting(TenantScoped, Base):
    """A greeting of a tenant."""

    __tablename__ = "example_greeting"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
