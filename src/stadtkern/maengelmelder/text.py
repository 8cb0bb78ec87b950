"""Plain text from what strangers type: HTML removed, control characters dropped, limits.

Reports are shown in the console, the portal, e-mails and other towns' apps; stripping markup
on the way in means none of them has to trust a report's text (they still escape it).
"""

from __future__ import annotations

import html
import re

from stadtkern.errors import InvalidInput

_SCRIPTS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[!/?]?[A-Za-z][^<>]*>|<!--.*?-->", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")


def plain_text(value: str, *, field: str, limit: int, multiline: bool = False) -> str:
    """`value` without markup, trimmed, at most `limit` characters (else InvalidInput)."""
    text = _SCRIPTS.sub(" ", value)
    text = _TAGS.sub(" ", text)
    text = html.unescape(text)
    # Unescaping may have made new tags ("&lt;b&gt;"); they are dropped the same way.
    text = _TAGS.sub(" ", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    if not multiline:
        text = text.replace("\n", " ").replace("\r", " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines).strip()
    if len(text) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters")
    return text
