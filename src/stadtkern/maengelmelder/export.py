"""The staff's CSV export of reports, safe to open in a spreadsheet.

Every text cell goes through `spreadsheet_safe` (shared with the portal and SensorThings):
report texts come from strangers, and a description starting with `=` must show as text,
never run as a formula on a clerk's computer. Personal data is not exported.
"""

from __future__ import annotations

import csv
import io

from stadtkern.maengelmelder.reports import ReportView
from stadtkern.sensorthings.csv_ import spreadsheet_safe

HEADER = (
    "service_request_id", "requested_datetime", "service_code", "service_name", "status",
    "detailed_status", "agency_responsible", "assignee", "address", "lat", "long",
    "description", "supporters", "merged_into", "updated_datetime", "closed_datetime",
)  # fmt: skip


def reports_csv(views: list[ReportView]) -> str:
    """The reports as CSV (RFC 4180) with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for view in views:
        report = view.report
        writer.writerow(
            [
                report.id,
                report.requested_at.isoformat(),
                spreadsheet_safe(view.service_code),
                spreadsheet_safe(view.service_name),
                report.status,
                report.detailed_status,
                spreadsheet_safe(view.agency),
                spreadsheet_safe(report.assignee),
                spreadsheet_safe(report.address),
                "" if report.lat is None else report.lat,
                "" if report.lon is None else report.lon,
                spreadsheet_safe(report.description),
                report.supporters,
                report.merged_into_id or "",
                report.updated_at.isoformat(),
                report.closed_at.isoformat() if report.closed_at else "",
            ]
        )
    return buffer.getvalue()
