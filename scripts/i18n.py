#!/usr/bin/env python3
"""Message catalogues of the web pages: extract, update and compile.

    python3 scripts/i18n.py            # extract from the templates, merge into every .po, compile
    python3 scripts/i18n.py --check    # exit 1 if a catalogue lacks a message or a .mo is stale
    python3 scripts/i18n.py de:new.po ...  # also fill untranslated messages from new.po

Message ids are English (the templates' text); `locale/<lang>/LC_MESSAGES/messages.po`
holds a language's translations, edited by hand; the compiled `.mo` is committed beside it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

WEB = Path(__file__).resolve().parent.parent / "src" / "stadtkern" / "web"
LOCALE = WEB / "locale"
LANGUAGES = ("de",)
METHODS = [("**/templates/**.html", "jinja2"), ("*.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}


def extracted() -> Catalog:
    """Every message of the templates."""
    catalog = Catalog(project="stadtkern", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(WEB), METHODS, options_map=OPTIONS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def merged(language: str, template: Catalog) -> Catalog:
    """The language's catalogue with every message of the templates (new ones untranslated)."""
    path = LOCALE / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as file:
        catalog = read_po(file, locale=language)
    catalog.update(template, no_fuzzy_matching=True)
    return catalog


def take(catalog: Catalog, sources: list[Path]) -> None:
    """Fill the catalogue's untranslated messages from other catalogues of its language
    (translations written beside the work, e.g. by several people at once)."""
    for source in sources:
        with source.open("rb") as file:
            offered = read_po(file, locale=catalog.locale)
        for message in offered:
            mine = catalog.get(message.id, message.context) if message.id else None
            if mine is not None and not mine.string and message.string:
                mine.string = message.string


def compiled(catalog: Catalog) -> bytes:
    """The .mo bytes of a catalogue."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def translated(catalog: Catalog) -> dict[object, object]:
    """The translations of a catalogue (its header and dates aside)."""
    return {message.id: message.string for message in catalog if message.id and message.string}


def main() -> int:
    """Update or check every catalogue."""
    arguments = sys.argv[1:]
    check = "--check" in arguments
    sources: dict[str, list[Path]] = {}
    for argument in arguments:
        language, colon, path = argument.partition(":")
        if colon and language in LANGUAGES:
            sources.setdefault(language, []).append(Path(path))
    template = extracted()
    problems = []
    for language in LANGUAGES:
        directory = LOCALE / language / "LC_MESSAGES"
        catalog = merged(language, template)
        take(catalog, sources.get(language, []))
        missing = [m.id for m in catalog if m.id and not m.string]
        if check:
            if missing:
                problems.append(f"{language}: untranslated: {missing}")
            with (directory / "messages.mo").open("rb") as file:
                shipped = read_mo(file)
            if translated(shipped) != translated(catalog):
                problems.append(f"{language}: messages.mo is stale (run scripts/i18n.py)")
            continue
        with (directory / "messages.po").open("wb") as file:
            write_po(
                file, catalog, width=100, omit_header=False, sort_output=True, ignore_obsolete=True
            )
        (directory / "messages.mo").write_bytes(compiled(catalog))
        if missing:
            problems.append(f"{language}: untranslated: {missing}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
