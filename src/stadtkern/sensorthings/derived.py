"""Tables derived from the entities by the database itself, for fast reads.

`sta_latest_head`: the part of a Datastream's `Datastreams/$latest` entry that does not
change with its Observations (the Datastream, its Thing, the Thing's first Location), as
JSON text in two pieces around the request's base URL. Triggers (migration
sensorthings_0004) render it again in the transaction that changes the Datastream's name,
unit or Thing, the Thing's name, a Location's GeoJSON or a Thing's Locations; it goes with
its Datastream (cascade). Nothing in Python writes it.

`sta_observation_hour`: per Datastream and UTC hour, the count, sum, minimum and maximum of
its numeric results, so that `$aggregate` of whole hours reads 8,784 rows for a year instead
of 525,600 Observations (see `rollups`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Double, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from stadtkern.db.base import Base, BigId, TenantScoped


class LatestHead(TenantScoped, Base):
    """`{"Datastream":{…,"@iot.selfLink":"` + base URL + `/Datastreams(id)"},"Thing":{…},
    "location":…,"Observation":` (head, base URL, tail) of one Datastream's $latest entry."""

    __tablename__ = "sta_latest_head"

    datastream_id: Mapped[int] = mapped_column(
        BigId,
        ForeignKey("sta_datastream.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    head: Mapped[str] = mapped_column(Text)
    tail: Mapped[str] = mapped_column(Text)


class ObservationHour(TenantScoped, Base):
    """The numeric results of one Datastream in one UTC hour (phenomenonTime start in
    [hour, hour + 3600 s)): how many, their sum, minimum and maximum. Kept by
    `rollups.roll_up` (new Observations of the ingest batch) and `rollups.recompute`
    (the general writer's changes); `$aggregate` reads it for whole hours."""

    __tablename__ = "sta_observation_hour"

    datastream_id: Mapped[int] = mapped_column(
        BigId,
        ForeignKey("sta_datastream.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value_count: Mapped[int] = mapped_column(BigInteger)
    value_sum: Mapped[float] = mapped_column(Double)
    value_min: Mapped[float] = mapped_column(Double)
    value_max: Mapped[float] = mapped_column(Double)
