"""Text as a sentiment engine reads it: what is addressed to, linked or masked is not a word.

A message's sentiment is what its writer says, not whom they say it to. Before any engine
scores a text (at ingest, at rescoring and when the model is trained), ``clean``:

- unescapes HTML entities (``&amp;`` -> ``&``, ``&lt;3`` -> ``<3``, a heart);
- removes @handles, URLs and the ingest's masks (``[email]``, ``[phone]``);
- keeps a hashtag's word without its ``#`` (``#fail`` -> ``fail``);
- removes the names given (our brand, competitors and their accounts), whole words,
  case-insensitive, also written as one word (``Northwind Mobile``, ``NorthwindMobile``);
- collapses the whitespace left behind.

So a message to an account named after a positive word (``@united my flight is cancelled``)
scores as the same message without the handle. ``CLEAN_VERSION`` changes whenever the rule
does, and is part of every engine's version (the sentiment cache is keyed by it).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import lru_cache

CLEAN_VERSION = "c1"

MASKS: tuple[str, ...] = ("[email]", "[phone]")
"""The tokens ``ingest.mask_text`` writes in place of e-mail addresses and phone numbers."""

_URL = r"(?:https?://|www\.)\S+"
_HANDLE = r"(?<![\w@])@\w+"
_MASK = "|".join(re.escape(m) for m in MASKS)
_DROP = re.compile(f"{_URL}|{_HANDLE}|{_MASK}", re.IGNORECASE)
_HASH = re.compile(r"(?<![\w&])#(?=\w)")
_SPACE = re.compile(r"\s+")


def clean(text: str, names: re.Pattern[str] | None = None) -> str:
    """``text`` without handles, URLs, masks, ``#`` and ``names`` (see the module docstring)."""
    if "&" in text:
        text = html.unescape(text)
    if "@" in text or "/" in text or "www" in text or "[" in text:
        text = _DROP.sub(" ", text)
    if "#" in text:
        text = _HASH.sub("", text)
    if names is not None:
        text = names.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def clean_all(texts: Iterable[str], names: re.Pattern[str] | None = None) -> list[str]:
    """``clean`` of each text, in order."""
    return [clean(t, names) for t in texts]


@lru_cache(maxsize=64)
def names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern matching any of ``names`` as whole words, case-insensitive, with or
    without the spaces inside a name; None when there are no names."""
    forms = set()
    for name in names:
        words = name.strip().lstrip("@").split()
        if words:
            forms.add(r"\s+".join(re.escape(w) for w in words))
            forms.add(re.escape("".join(words)))
    if not forms:
        return None
    alternatives = "|".join(sorted(forms, key=lambda f: (-len(f), f)))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
