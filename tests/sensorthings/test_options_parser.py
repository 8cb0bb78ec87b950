"""Query options: $orderby, $select, $expand with nested options, and the simple ones."""

from __future__ import annotations

import pytest

from stadtkern.sensorthings.query import (
    Binary,
    ExpandItem,
    Kind,
    Literal,
    Operator,
    OrderKey,
    Path,
    QueryError,
    QueryOptions,
    ResultFormat,
    SelectItem,
    parse_orderby,
    parse_query_options,
)


def test_all_top_level_options() -> None:
    options = parse_query_options(
        {
            "$filter": "name eq 'x'",
            "$orderby": "phenomenonTime desc, result asc, id",
            "$select": "id,name,Datastreams/name",
            "$expand": "Datastreams",
            "$top": "10",
            "$skip": "20",
            "$count": "true",
            "$resultFormat": "dataArray",
            "tenant": "ignored",
        }
    )
    assert options == QueryOptions(
        filter=Binary(Operator.EQ, Path(("name",)), Literal("x", Kind.STRING)),
        orderby=(
            OrderKey(Path(("phenomenonTime",)), descending=True),
            OrderKey(Path(("result",))),
            OrderKey(Path(("id",))),
        ),
        select=(SelectItem(("id",)), SelectItem(("name",)), SelectItem(("Datastreams", "name"))),
        expand=(ExpandItem(("Datastreams",), QueryOptions()),),
        top=10,
        skip=20,
        count=True,
        result_format=ResultFormat.DATA_ARRAY,
    )


def test_nested_expand() -> None:
    text = (
        "Datastreams($filter=name eq 'x;y';$expand=Observations($top=1;"
        "$orderby=phenomenonTime desc);$select=name),Locations,Datastreams/ObservedProperty"
    )
    (datastreams, locations, observed) = parse_query_options([("$expand", text)]).expand
    assert datastreams.path == ("Datastreams",)
    assert datastreams.options.filter == Binary(
        Operator.EQ, Path(("name",)), Literal("x;y", Kind.STRING)
    )
    assert datastreams.options.select == (SelectItem(("name",)),)
    (observations,) = datastreams.options.expand
    assert observations == ExpandItem(
        ("Observations",),
        QueryOptions(top=1, orderby=(OrderKey(Path(("phenomenonTime",)), descending=True),)),
    )
    assert locations.path == ("Locations",)
    assert observed.path == ("Datastreams", "ObservedProperty")


def test_expression_keys_in_orderby() -> None:
    (key,) = parse_query_options({"$orderby": "length(name) desc"}).orderby
    assert key.descending
    assert key.expression.position == 0


def test_nested_filter_positions_count_from_the_expand_value() -> None:
    with pytest.raises(QueryError) as raised:
        parse_query_options({"$expand": "Datastreams($filter=name eq)"})
    assert raised.value.option == "$expand"
    assert raised.value.position == 27
    assert str(raised.value) == (
        "$expand: $filter: expected an operand but found end of input at position 27"
    )


@pytest.mark.parametrize(
    ("params", "option", "position", "message"),
    [
        ({"$top": "-1"}, "$top", 0, "expected a non-negative integer"),
        ({"$skip": "x"}, "$skip", 0, "expected a non-negative integer"),
        ({"$count": "yes"}, "$count", 0, "expected true or false"),
        ({"$resultFormat": "xml"}, "$resultFormat", 0, "expected one of dataArray, GeoJSON, CSV"),
        ({"$filtr": "x"}, None, 0, "unknown query option '$filtr'"),
        ({"$orderby": "name sideways"}, "$orderby", 5, "expected ',', asc, desc"),
        ({"$orderby": "name,"}, "$orderby", 5, "expected an operand"),
        ({"$select": "id,,name"}, "$select", 3, "expected a property name"),
        ({"$select": "Thing/"}, "$select", 6, "expected a property name after '/'"),
        ({"$expand": "Datastreams("}, "$expand", 12, "expected ')'"),
        ({"$expand": "Datastreams)"}, "$expand", 11, "unbalanced ')'"),
        ({"$expand": "Datastreams,,Things"}, "$expand", 12, "expected an entry"),
        ({"$expand": "Datastreams($top)"}, "$expand", 12, "expected $option=value"),
        ({"$expand": "Datastreams($top=x)"}, "$expand", 17, "$top: expected a non-negative"),
        ({"$expand": "Datastreams($resultFormat=dataArray)"}, "$expand", 12, "unknown query"),
        ({"$expand": "Datastreams x"}, "$expand", 11, "expected '(' or ','"),
        ({"$expand": "Datastreams($filter='x)"}, "$expand", 23, "unterminated string"),
    ],
)
def test_option_errors(
    params: dict[str, str], option: str | None, position: int, message: str
) -> None:
    with pytest.raises(QueryError) as raised:
        parse_query_options(params)
    assert raised.value.option == option
    assert raised.value.position == position
    assert message in str(raised.value)


def test_repeated_option() -> None:
    with pytest.raises(QueryError, match=r"\$top is given more than once"):
        parse_query_options([("$top", "1"), ("$top", "2")])


def test_orderby_directions_in_any_case() -> None:
    """The Fraunhofer client sends `DESC`; OData writes `desc`: both are taken."""
    keys = parse_orderby("phenomenonTime DESC, result Asc")
    assert [key.descending for key in keys] == [True, False]
