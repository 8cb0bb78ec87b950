"""Storage: one schema on two backends (embedded SQLite and PostgreSQL/PostGIS)."""

from stadtkern.db.base import Base, TenantScoped, utcnow
from stadtkern.db.database import Database

__all__ = ["Base", "Database", "TenantScoped", "utcnow"]
