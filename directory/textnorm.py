"""Text normalisation shared by the directory and the NLU components.

Users type on phones, in a hurry, often without accents or in SMS style, so
every matcher works on the same folded form: lower case, accents removed,
apostrophes and punctuation turned into spaces, letters repeated three times
or more squeezed to two ("aideeeez" -> "aidee").
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_REPEATS = re.compile(r"([^\W\d_])\1{2,}", re.UNICODE)  # letters only: "1000" stays


def strip_accents(text: str) -> str:
    """Remove combining marks: "élève" -> "eleve"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Fold text for matching: lower case, no accents, single spaces, no punctuation."""
    text = strip_accents(text or "").casefold()
    text = _REPEATS.sub(r"\1\1", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The folded words of a text."""
    return fold(text).split()
