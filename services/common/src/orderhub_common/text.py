"""Free text: the one rule for what text people and channels may put into Order Hub.

Refused everywhere: C0 and C1 control characters (NUL, ESC, CR, ...), Unicode line and
paragraph separators, lone surrogates (no UTF-8 store can hold them) and the bidirectional
embeddings, overrides and isolates that make text display other than it reads (Trojan Source).
PostgreSQL refuses NUL in text and JSONB outright, so a single stored NUL stalls whatever copies
it there; the others forge log lines, CSV rows and what an admin sees.

- ``SingleLineText``: names, carriers, tracking numbers, tags, view names: no control character
  at all. ``FreeText``: notes and reasons: line feeds and tabs allowed, nothing else.
  Both are NFC-normalized (one spelling per text); give the lengths where they are used:
  ``Annotated[SingleLineText, Field(min_length=1, max_length=100)]``. A request carrying
  anything else is a 422 naming the field.
- ``ChannelText``: text a sales channel sent. A channel is not a person we can answer with a
  422, so its text is cleaned instead (line breaks and tabs become a space, the rest is
  dropped) and the order still flows.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
# Everything refused in a single line; FreeText allows \t and \n out of it.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}{_SURROGATES}]")
_UNSAFE_IN_FREE_TEXT = re.compile(
    f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}{_SURROGATES}]"
)
_LINE_BREAKS_AND_TABS = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]+")


def _single_line(value: str) -> str:
    if _UNSAFE.search(value):
        raise ValueError(
            "must not contain control characters, line breaks or bidirectional controls"
        )
    return unicodedata.normalize("NFC", value)


def _free_text(value: str) -> str:
    if _UNSAFE_IN_FREE_TEXT.search(value):
        raise ValueError(
            "must not contain control characters (but line feeds and tabs) "
            "or bidirectional controls"
        )
    return unicodedata.normalize("NFC", value)


def cleaned(value: str) -> str:
    """``value`` with line breaks and tabs as one space and every other refused character
    dropped, NFC-normalized: what a channel's text becomes."""
    if _UNSAFE.search(value):
        value = _UNSAFE.sub("", _LINE_BREAKS_AND_TABS.sub(" ", value)).strip()
    return unicodedata.normalize("NFC", value)


def _cleaned_if_text(value: Any) -> Any:
    return cleaned(value) if isinstance(value, str) else value


SingleLineText = Annotated[str, AfterValidator(_single_line)]
FreeText = Annotated[str, AfterValidator(_free_text)]
ChannelText = Annotated[str, BeforeValidator(_cleaned_if_text)]
