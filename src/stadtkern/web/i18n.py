"""Languages of the pages: German and English, chosen by the visitor.

The choice comes from `?lang=` (remembered in a cookie), then the cookie, then the
browser's Accept-Language, then the town's default locale. Message catalogues are gettext
files under `locale/`, compiled by `scripts/i18n.py`; message ids are English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from fastapi import Request

LANGUAGES = ("de", "en")
COOKIE = "stadtkern_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def choose_language(request: Request, default: str) -> str:
    """The page language for this request."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default if default in LANGUAGES else LANGUAGES[0]


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of a language (English needs none: ids are English)."""
    if language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")
