"""$resultFormat: dataArray (OGC 18-088 §14.3), GeoJSON and CSV."""

from __future__ import annotations

import pytest

from stadtkern.db import Database
from stadtkern.errors import BadRequest
from stadtkern.sensorthings import catalogue as c
from stadtkern.sensorthings.csv_ import cell
from tests.sensorthings.fast_reads import tokenless, untokened
from tests.sensorthings.reader_data import Query, Town, make_town, sta_database, town

__all__ = ["sta_database", "town"]  # fixtures used by the tests below

DATA_ARRAY = ("$resultFormat", "dataArray")
GEOJSON = ("$resultFormat", "GeoJSON")
CSV = ("$resultFormat", "CSV")
COMPONENTS = ["id", "phenomenonTime", "result", "resultTime"]
STIFTSKIRCHE = {"type": "Point", "coordinates": [7.7689, 49.4447]}
BAHNHOF = {"type": "Point", "coordinates": [7.7682, 49.4367]}


# --- dataArray ------------------------------------------------------------------------------


def test_data_array_groups_observations_by_their_datastream(town: Town) -> None:
    def row(key: str, minute: int, result: object, result_time: bool = True) -> list[object]:
        when = f"2026-12-01T10:0{minute}:00Z"
        return [town.ids[key], when, result, when.replace(":00Z", ":05Z") if result_time else None]

    assert town.json("Observations", [DATA_ARRAY]) == {
        "value": [
            {
                "Datastream@iot.navigationLink": town.link("Datastreams", "D1"),
                "components": COMPONENTS,
                "dataArray@iot.count": 5,
                "dataArray": [
                    row("O1", 0, 20.5),
                    row("O2", 1, 21),
                    row("O3", 2, "warm"),
                    row("O4", 3, True),
                    row("O5", 4, {"min": 19, "max": 23}),
                ],
            },
            {
                "Datastream@iot.navigationLink": town.link("Datastreams", "D2"),
                "components": COMPONENTS,
                "dataArray@iot.count": 3,
                "dataArray": [
                    [town.ids["O6"], "2026-12-01T10:00:00.250Z", 55.0, None],
                    [town.ids["O7"], "2026-12-01T10:01:00.250Z", 56.5, None],
                    [town.ids["O8"], "2026-12-01T10:02:00.250Z", 57.0, None],
                ],
            },
            {
                "Datastream@iot.navigationLink": town.link("Datastreams", "D3"),
                "components": COMPONENTS,
                "dataArray@iot.count": 1,
                "dataArray": [
                    [town.ids["O9"], "2026-12-01T10:30:00Z/2026-12-01T10:45:00Z", 3.5, None]
                ],
            },
            {
                "MultiDatastream@iot.navigationLink": town.link("MultiDatastreams", "M1"),
                "components": COMPONENTS,
                "dataArray@iot.count": 2,
                "dataArray": [row("Q1", 0, [60, 4.5], False), row("Q2", 1, [61, 4.0], False)],
            },
        ]
    }


def test_data_array_components_follow_select_and_pages_link_on(town: Town) -> None:
    path = f"Datastreams({town.ids['D2']})/Observations"
    query = [DATA_ARRAY, ("$select", "result,phenomenonTime"), ("$top", "2"), ("$count", "true")]
    first = town.json(path, query)
    assert tokenless(first) == {
        "@iot.count": 3,
        "@iot.nextLink": f"{town.base}/{path}?$resultFormat=dataArray"
        "&$select=result,phenomenonTime&$count=true&$top=2&$skiptoken=…",
        "value": [
            {
                "Datastream@iot.navigationLink": town.link("Datastreams", "D2"),
                "components": ["result", "phenomenonTime"],
                "dataArray@iot.count": 2,
                "dataArray": [
                    [55.0, "2026-12-01T10:00:00.250Z"],
                    [56.5, "2026-12-01T10:01:00.250Z"],
                ],
            }
        ],
    }
    rest = town.follow(first["@iot.nextLink"])
    assert rest["value"][0]["dataArray"] == [[57.0, "2026-12-01T10:02:00.250Z"]]
    assert "@iot.nextLink" not in rest


def test_data_array_offers_every_observation_component(town: Town) -> None:
    select = "id,validTime,parameters,resultQuality,FeatureOfInterest/id"
    query = [DATA_ARRAY, ("$filter", f"id eq {town.ids['O9']}"), ("$select", select)]
    (group,) = town.json("Observations", query)["value"]
    assert group["components"] == select.split(",")
    assert group["dataArray"] == [
        [
            town.ids["O9"],
            "2026-12-01T10:30:00Z/2026-12-01T11:30:00Z",
            {"Messung": "manuell"},
            {"Güte": "geprüft"},
            town.ids["F1"],
        ]
    ]


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("Things", [DATA_ARRAY], "collections of Observations"),
        ("Observations({O1})", [DATA_ARRAY], "collections of Observations"),
        ("Observations", [DATA_ARRAY, ("$expand", "Datastream")], "cannot be combined"),
        ("Observations", [DATA_ARRAY, ("$select", "name")], "not a dataArray component"),
    ],
)
def test_formats_refuse_what_they_cannot_show(
    town: Town, path: str, query: Query, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        town.get(path.format(O1=town.ids["O1"]), query)


# --- GeoJSON --------------------------------------------------------------------------------


def test_geojson_locations_carry_their_own_geometry(town: Town) -> None:
    document = town.get("Locations", [GEOJSON, ("$select", "id,name")])
    assert document.media_type == "application/geo+json"
    assert document.body == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": town.ids["L1"],
                "geometry": STIFTSKIRCHE,
                "properties": {"@iot.id": town.ids["L1"], "name": "Stiftskirche"},
            },
            {
                "type": "Feature",
                "id": town.ids["L2"],
                "geometry": BAHNHOF,
                "properties": {"@iot.id": town.ids["L2"], "name": "Bahnhof"},
            },
        ],
    }
    (feature, _) = town.json("Locations", [GEOJSON])["features"]
    location = town.link("Locations", "L1")
    assert feature["properties"] == {
        "@iot.id": town.ids["L1"],
        "@iot.selfLink": location,
        "name": "Stiftskirche",
        "description": "Standort Stiftskirche",
        "encodingType": "application/geo+json",
        "properties": None,
        "Things@iot.navigationLink": f"{location}/Things",
        "HistoricalLocations@iot.navigationLink": f"{location}/HistoricalLocations",
    }


def test_geojson_things_are_where_their_locations_are(town: Town) -> None:
    body = town.json("Things", [GEOJSON, ("$select", "name"), ("$count", "true"), ("$top", "2")])
    assert tokenless(body) == {
        "type": "FeatureCollection",
        "@iot.count": 3,
        "@iot.nextLink": f"{town.base}/Things?$resultFormat=GeoJSON&$select=name&$count=true"
        "&$top=2&$skiptoken=…",
        "features": [
            {
                "type": "Feature",
                "id": town.ids["T1"],
                "geometry": STIFTSKIRCHE,
                "properties": {"name": "Laterne 1"},
            },
            {
                "type": "Feature",
                "id": town.ids["T2"],
                "geometry": {"type": "GeometryCollection", "geometries": [STIFTSKIRCHE, BAHNHOF]},
                "properties": {"name": "Laterne 2"},
            },
        ],
    }
    rest = town.follow(body["@iot.nextLink"])
    assert rest["features"] == [
        {
            "type": "Feature",
            "id": town.ids["T3"],
            "geometry": None,
            "properties": {"name": "Pegel Fackelwoog"},
        }
    ]


def test_geojson_of_observations_streams_and_single_entities(town: Town) -> None:
    observations = town.json("Observations", [GEOJSON, ("$select", "result"), ("$top", "1")])
    assert observations["features"] == [
        {
            "type": "Feature",
            "id": town.ids["O1"],
            "geometry": STIFTSKIRCHE,
            "properties": {"result": 20.5},
        }
    ]
    streams = town.json("Datastreams", [GEOJSON, ("$select", "name,observedArea")])
    areas = [
        (f["properties"], f["geometry"] and f["geometry"]["type"]) for f in streams["features"]
    ]
    assert areas == [
        ({"name": "Temperatur 1"}, None),
        ({"name": "Feuchte 1"}, None),
        ({"name": "Temperatur 2"}, "Polygon"),
    ]
    sensor = town.get(f"Sensors({town.ids['S1']})", [GEOJSON, ("$select", "name")])
    assert (sensor.body, sensor.media_type) == (
        {
            "type": "Feature",
            "id": town.ids["S1"],
            "geometry": None,
            "properties": {"name": "SHT31"},
        },
        "application/geo+json",
    )


# --- CSV ------------------------------------------------------------------------------------


def test_csv_escapes_cells_and_guards_against_formulas(sta_database: Database) -> None:
    village = make_town(sta_database)
    village.add(
        "A",
        c.THING,
        name='=HYPERLINK("http://example.org")',
        description='Sagt "Hallo", dann\nTschüss',
        properties={"a": [1, 2]},
    )
    village.add("B", c.THING, name="-Pegel", description="+49 631", properties=None)
    village.add("C", c.THING, name="@Bahnhof", description="Laterne", properties={"n": -1})
    document = village.get("Things", [CSV, ("$select", "id,name,description,properties")])
    assert document.media_type == "text/csv"
    a, b, c_ = (village.ids[key] for key in "ABC")
    assert document.body == (
        "id,name,description,properties\r\n"
        f'{a},"\'=HYPERLINK(""http://example.org"")","Sagt ""Hallo"", dann\nTschüss",'
        '"{""a"":[1,2]}"\r\n'
        f"{b},'-Pegel,'+49 631,\r\n"
        f'{c_},\'@Bahnhof,Laterne,"{{""n"":-1}}"\r\n'
    )
    assert document.next_link is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("Laterne", "Laterne"),
        ("-3.5", "'-3.5"),
        ("\tLaterne", "'\tLaterne"),
        ("\rLaterne", "'\rLaterne"),
        (-3.5, "-3.5"),
        (21, "21"),
        (True, "true"),
        ({"Güte": "gut"}, '{"Güte":"gut"}'),
        ([1, "=2"], '[1,"=2"]'),
    ],
)
def test_csv_cells(value: object, text: str) -> None:
    assert cell(value) == text


def test_csv_flattens_expanded_to_one_navigations(town: Town) -> None:
    expand = "Datastream($select=name;$expand=Thing($select=id,name))"
    query = [CSV, ("$select", "id,result"), ("$expand", expand), ("$top", "2")]
    document = town.get("Observations", query)
    t1 = town.ids["T1"]
    assert document.body == (
        "id,result,Datastream/name,Datastream/Thing/id,Datastream/Thing/name\r\n"
        f"{town.ids['O1']},20.5,Temperatur 1,{t1},Laterne 1\r\n"
        f"{town.ids['O2']},21,Temperatur 1,{t1},Laterne 1\r\n"
    )
    assert untokened(document.next_link or "") == (
        f"{town.base}/Observations?$resultFormat=CSV&$select=id,result"
        "&$expand=Datastream($select=name;$expand=Thing($select=id,name))&$top=2&$skiptoken=…"
    )
    multi = town.get(
        "Observations",
        [CSV, ("$filter", f"id eq {town.ids['Q1']}"), ("$select", "id"), ("$expand", "Datastream")],
    )
    header = multi.body.split("\r\n")[0].split(",")
    assert header[:4] == ["id", "Datastream/id", "Datastream/selfLink", "Datastream/name"]
    assert multi.body.split("\r\n")[1] == f"{town.ids['Q1']}" + "," * (len(header) - 1)


def test_csv_of_one_entity_and_without_select(town: Town) -> None:
    document = town.get(f"Things({town.ids['T1']})", [CSV])
    assert document.body == (
        "id,selfLink,name,description,properties\r\n"
        f"{town.ids['T1']},{town.link('Things', 'T1')},Laterne 1,Laterne 1 am Markt,"
        '"{""owner"":""Stadtwerke""}"\r\n'
    )


def test_csv_refuses_to_many_expansions(town: Town) -> None:
    with pytest.raises(BadRequest, match="to-many navigation Datastreams"):
        town.get("Things", [CSV, ("$expand", "Datastreams")])
