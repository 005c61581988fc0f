"""Text normalisation shared by the directory and the NLU components.

Users type on phones, in a hurry, often without accents or in SMS style, so
every matcher works on the same folded form: lower case, accents removed,
apostrophes and punctuation turned into spaces, letters repeated three times
or more squeezed to two ("aideeeez" -> "aidee"). Arabic is folded the way
people type it on a phone: hamza carriers lose their hamza with the accents
(أ إ آ -> ا, ؤ -> و, ئ -> ي), and the letters typed for one another are made
one (ة -> ه, ى -> ي, Persian-keyboard ی ک -> ي ك, the tatweel dropped).
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_REPEATS = re.compile(r"([^\W\d_])\1{2,}", re.UNICODE)  # letters only: "1000" stays
_LETTER_VARIANTS = str.maketrans({"ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك", "ـ": None})


def strip_accents(text: str) -> str:
    """Remove combining marks: "élève" -> "eleve"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_letters(text: str) -> str:
    """Accents and letter variants folded, case and punctuation kept: for patterns matched on folded text.

    >>> fold_letters("(النجد[ةه]|أنقذوني|kap[ıi]n[ıi]n on[uü]nde)")
    '(النجد[هه]|انقذوني|kap[ıi]n[ıi]n on[uu]nde)'
    """
    return strip_accents(text or "").translate(_LETTER_VARIANTS)


def fold(text: str) -> str:
    """Fold text for matching: lower case, no accents, single spaces, no punctuation.

    >>> fold("Aidez-moi !!! SVP"), fold("زوجي يضربني كل ليلة"), fold("أنا في خطر")
    ('aidez moi svp', 'زوجي يضربني كل ليله', 'انا في خطر')
    """
    text = fold_letters(text).casefold()
    text = _REPEATS.sub(r"\1\1", text)
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The folded words of a text."""
    return fold(text).split()
