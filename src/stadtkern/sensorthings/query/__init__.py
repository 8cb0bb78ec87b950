"""The SensorThings API 1.1 query options: parsing into syntax trees and compiling to SQL.

    options = parse_query_options(request.query_params.multi_items())
    where = compile_filter(options.filter, observation_map(observation_table))
    order = compile_orderby(options.orderby, observation_map(observation_table))

Every error is a QueryError (a ValueError) naming the option and position, for a 400 answer.
"""

from stadtkern.sensorthings.query.compiler import compile_filter
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import (
    Binary,
    Call,
    Expression,
    Literal,
    Negate,
    Not,
    Operator,
    Path,
    TimeInterval,
)
from stadtkern.sensorthings.query.filter_parser import parse_filter
from stadtkern.sensorthings.query.kinds import Kind
from stadtkern.sensorthings.query.options import (
    ExpandItem,
    OrderKey,
    QueryOptions,
    ResultFormat,
    SelectItem,
)
from stadtkern.sensorthings.query.options_parser import (
    parse_expand,
    parse_orderby,
    parse_query_options,
    parse_select,
)
from stadtkern.sensorthings.query.ordering import compile_orderby
from stadtkern.sensorthings.query.properties import Navigation, Property, PropertyMap

__all__ = [
    "Binary",
    "Call",
    "ExpandItem",
    "Expression",
    "Kind",
    "Literal",
    "Navigation",
    "Negate",
    "Not",
    "Operator",
    "OrderKey",
    "Path",
    "Property",
    "PropertyMap",
    "QueryError",
    "QueryOptions",
    "ResultFormat",
    "SelectItem",
    "TimeInterval",
    "compile_filter",
    "compile_orderby",
    "parse_expand",
    "parse_filter",
    "parse_orderby",
    "parse_query_options",
    "parse_select",
]
