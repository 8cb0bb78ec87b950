"""Departments and categories: the configuration a town sets up once and may copy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import Conflict, InvalidInput, NotFound
from stadtkern.maengelmelder.models import Category, Department
from stadtkern.maengelmelder.schemas import CategoryCreate, CategoryUpdate, DepartmentCreate


def list_departments(*, session: Session, tenant: TenantRef) -> list[Department]:
    """The town's departments by key."""
    return list(
        session.scalars(
            select(Department).where(Department.tenant_id == tenant.id).order_by(Department.key)
        )
    )


def create_department(
    *, session: Session, tenant: TenantRef, department_create: DepartmentCreate
) -> Department:
    """A new department; its key must be new in the town."""
    department = Department(
        tenant_id=tenant.id,
        key=department_create.key,
        name=department_create.name,
        email=department_create.email or None,
    )
    session.add(department)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"the department '{department_create.key}' exists already") from exc
    return department


def _department_id(session: Session, tenant: TenantRef, key: str | None) -> int | None:
    if key is None:
        return None
    found = session.scalar(
        select(Department.id).where(Department.tenant_id == tenant.id, Department.key == key)
    )
    if found is None:
        raise InvalidInput(f"no department '{key}'")
    return found


def list_categories(
    *, session: Session, tenant: TenantRef, active_only: bool = False
) -> list[Category]:
    """The town's categories in the order citizens see them."""
    query = select(Category).where(Category.tenant_id == tenant.id)
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(session.scalars(query.order_by(Category.position, Category.code)))


def get_category(*, session: Session, tenant: TenantRef, code: str) -> Category:
    """One category by its service code."""
    found = session.scalar(
        select(Category).where(Category.tenant_id == tenant.id, Category.code == code)
    )
    if found is None:
        raise NotFound(f"no category '{code}'")
    return found


def _fields(
    session: Session, tenant: TenantRef, body: CategoryUpdate | CategoryCreate
) -> dict[str, Any]:
    return {
        "name": body.name,
        "description": body.description,
        "group_name": body.group,
        "keywords": [keyword.strip() for keyword in body.keywords if keyword.strip()],
        "attributes": [attribute.model_dump() for attribute in body.attributes],
        "department_id": _department_id(session, tenant, body.department),
        "expected_days": body.expected_days,
        "active": body.active,
        "position": body.position,
    }


def create_category(
    *, session: Session, tenant: TenantRef, category_create: CategoryCreate
) -> Category:
    """A new category; its code must be new in the town."""
    category = Category(
        tenant_id=tenant.id,
        code=category_create.code,
        **_fields(session, tenant, category_create),
    )
    session.add(category)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"the category '{category_create.code}' exists already") from exc
    return category


def update_category(
    *, session: Session, tenant: TenantRef, code: str, category_update: CategoryUpdate
) -> Category:
    """Replace a category's settings; reports already made keep their answers."""
    category = get_category(session=session, tenant=tenant, code=code)
    for name, value in _fields(session, tenant, category_update).items():
        setattr(category, name, value)
    session.flush()
    return category


def copy_catalogue(*, session: Session, source: TenantRef, target: TenantRef) -> None:
    """Copy departments and categories (with their mapping) into a new town."""
    keys: dict[int, int] = {}
    for department in list_departments(session=session, tenant=source):
        copy = Department(
            tenant_id=target.id, key=department.key, name=department.name, email=department.email
        )
        session.add(copy)
        session.flush()
        keys[department.id] = copy.id
    for category in list_categories(session=session, tenant=source):
        session.add(
            Category(
                tenant_id=target.id,
                code=category.code,
                name=category.name,
                description=category.description,
                group_name=category.group_name,
                keywords=list(category.keywords),
                attributes=[dict(attribute) for attribute in category.attributes],
                department_id=keys.get(category.department_id or 0),
                expected_days=category.expected_days,
                active=category.active,
                position=category.position,
            )
        )
    session.flush()
