"""Request bodies of the staff API and the values the service layer hands around."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from stadtkern.core.schemas import RequestBody

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
DetailedStatus = Literal["received", "in_process", "processed", "rejected"]
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LISTS = ("singlevaluelist", "multivaluelist")


class AttributeValue(RequestBody):
    """One choice of a list attribute."""

    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=255)


class AttributeSpec(RequestBody):
    """A question a category asks (an Open311 service attribute)."""

    code: str = Field(pattern=CODE_PATTERN)
    datatype: Datatype
    required: bool = False
    variable: bool = True
    description: str = Field("", max_length=1000)
    datatype_description: str = Field("", max_length=1000)
    order: int = Field(1, ge=1, le=1000)
    values: list[AttributeValue] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _lists_have_values(self) -> AttributeSpec:
        if self.datatype in LISTS and not self.values:
            raise ValueError(f"a {self.datatype} attribute needs values")
        if self.datatype not in LISTS and self.values:
            raise ValueError("only list attributes have values")
        if len({value.key for value in self.values}) != len(self.values):
            raise ValueError("the keys of an attribute's values must differ")
        return self


class CategoryCreate(RequestBody):
    """A category: what citizens can report, who handles it and what it asks."""

    code: str = Field(pattern=CODE_PATTERN, description="Open311 service_code")
    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=2000)
    group: str = Field("", max_length=120)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    attributes: list[AttributeSpec] = Field(default_factory=list, max_length=50)
    department: str | None = Field(None, description="key of the responsible department")
    expected_days: int | None = Field(None, ge=0, le=3650, description="service level in days")
    active: bool = True
    position: int = Field(0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _unique_attribute_codes(self) -> CategoryCreate:
        codes = [attribute.code for attribute in self.attributes]
        if len(set(codes)) != len(codes):
            raise ValueError("the codes of a category's attributes must differ")
        return self


class CategoryUpdate(RequestBody):
    """A category replaced as a whole (its code stays)."""

    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=2000)
    group: str = Field("", max_length=120)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    attributes: list[AttributeSpec] = Field(default_factory=list, max_length=50)
    department: str | None = None
    expected_days: int | None = Field(None, ge=0, le=3650)
    active: bool = True
    position: int = Field(0, ge=0, le=100_000)


class DepartmentCreate(RequestBody):
    """A department of the town."""

    key: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(None, max_length=255)


class StatusChange(RequestBody):
    """A staff update: a new detailed status and/or a note, public or internal."""

    detailed_status: DetailedStatus | None = None
    note: str = Field("", max_length=4000)
    public: bool = True
    service_notice: str | None = Field(None, max_length=2000)


class Assignment(RequestBody):
    """Who works on a report (empty: nobody)."""

    assignee: str = Field("", max_length=255)


class Merge(RequestBody):
    """Close a report as a duplicate of another."""

    into: int = Field(ge=1, description="service_request_id of the report that stays")


class Reopen(RequestBody):
    """Open a closed report again."""

    note: str = Field("", max_length=4000)
