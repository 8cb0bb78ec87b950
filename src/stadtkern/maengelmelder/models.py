"""Tables of the Mängelmelder: departments, categories (Open311 services), reports (service
requests), the reporter's personal data, photos, updates, supporters and the mail outbox.

Personal data lives only in `mm_reporter` and `mm_mail`, so that the retention purge deletes
rows instead of hunting for columns; a report itself names nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import stadtkern.core.models  # noqa: F401 - tenant table for the foreign keys
from stadtkern.db.base import Base, BigId, TenantScoped, utcnow
from stadtkern.db.geometry import Geometry


class Department(TenantScoped, Base):
    """An office of the town that handles reports (Tiefbauamt, Grünflächenamt, ...)."""

    __tablename__ = "mm_department"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Category(TenantScoped, Base):
    """What can be reported: an Open311 service with its questions (attributes)."""

    __tablename__ = "mm_category"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(String(120), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    department_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mm_department.id", ondelete="SET NULL"), nullable=True
    )
    expected_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Photo(TenantScoped, Base):
    """A re-encoded photo without EXIF or GPS, served under a random, unguessable key."""

    __tablename__ = "mm_photo"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    media_type: Mapped[str] = mapped_column(String(40))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Report(TenantScoped, Base):
    """A defect report: an Open311 service request."""

    __tablename__ = "mm_report"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_mm_report_requested", "tenant_id", "requested_at"),
        Index("ix_mm_report_updated", "tenant_id", "updated_at"),
        Index("ix_mm_report_place", "tenant_id", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token: Mapped[str] = mapped_column(String(40))
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mm_category.id", ondelete="RESTRICT"), index=True
    )
    department_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mm_department.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(10))  # open | closed
    detailed_status: Mapped[str] = mapped_column(String(12))  # received | in_process | ...
    description: Mapped[str] = mapped_column(Text, default="")
    status_notes: Mapped[str] = mapped_column(Text, default="")
    service_notice: Mapped[str] = mapped_column(Text, default="")
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry("POINT"), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    address_id: Mapped[str] = mapped_column(String(64), default="")
    zipcode: Mapped[str] = mapped_column(String(10), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    photo_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mm_photo.id", ondelete="SET NULL"), nullable=True
    )
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    expected_at: Mapped[datetime | None] = mapped_column(nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    assignee: Mapped[str] = mapped_column(String(255), default="")
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mm_report.id", ondelete="SET NULL"), nullable=True
    )
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(20))  # open311 | web
    client: Mapped[str] = mapped_column(String(255), default="")


class Reporter(Base):
    """The personal data of a report's author, deleted by the retention purge."""

    __tablename__ = "mm_reporter"

    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mm_report.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(255), default="")
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    device_id: Mapped[str] = mapped_column(String(120), default="")
    account_id: Mapped[str] = mapped_column(String(120), default="")


class Update(TenantScoped, Base):
    """One step in a report's history: a status change, a note, an assignment, a merge."""

    __tablename__ = "mm_update"
    __table_args__ = (Index("ix_mm_update_time", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mm_report.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # status | note | assign | merge | reopen
    status: Mapped[str] = mapped_column(String(10))
    detailed_status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    author: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Supporter(Base):
    """A "me too" on a report: a keyed hash of who supported it, so nobody counts twice."""

    __tablename__ = "mm_supporter"
    __table_args__ = (UniqueConstraint("report_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mm_report.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Mail(TenantScoped, Base):
    """A notice waiting for the SMTP server; deleted once the server accepted it."""

    __tablename__ = "mm_mail"
    __table_args__ = (Index("ix_mm_mail_due", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mm_report.id", ondelete="CASCADE"), nullable=True, index=True
    )
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
