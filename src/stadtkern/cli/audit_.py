"""`stadtkern audit verify`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from stadtkern.cli.common import console, database, err
from stadtkern.core import audit

app = typer.Typer(help="Check the audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    expected_head: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH recorded elsewhere earlier; catches a rewritten tail"),
    ] = None,
) -> None:
    """Walk the hash chain; report every changed, inserted or deleted entry (exit 1)."""
    head: tuple[int, str] | None = None
    if expected_head:
        seq, _, digest = expected_head.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            err.print("[red]--expected-head takes SEQ:HASH (64 hex digits)[/red]")
            raise typer.Exit(2)
        head = (int(seq), digest)
    with database() as db, db.read() as session:
        report = audit.verify(session, expected_head=head)
    if report.ok:
        console.print(
            f"[green]audit chain intact[/green]: {report.checked} entries, "
            f"head {report.head_seq}:{report.head_hash}"
        )
        return
    table = Table("seq", "problem", "detail")
    for problem in report.problems:
        table.add_row(str(problem.seq), problem.kind, problem.detail)
    console.print(table)
    err.print(f"[red]audit chain broken: {len(report.problems)} problem(s)[/red]")
    raise typer.Exit(1)
