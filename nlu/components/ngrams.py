"""Character and word n-gram features, and linear models over them scored in plain NumPy.

The intent classifier (nlu/components/linear.py) and the danger detector
(nlu/components/danger.py) read a message the same way: TF-IDF of its
character n-grams within words (2 to 5: typos, missing accents, SMS
spellings, morphology in nine languages) and of its words and word pairs,
each sublinear and L2-normalised, on folded text (directory.textnorm.fold).

`LinearScores` computes what `model.decision_function` would for one short
text, without sklearn's checks and sparse matrices around it (about 1 ms
per call, a tenth of the Rasa process's time per message under load;
docs/benchmarks.md): per vectorizer, the weights of the n-grams it knows,
then the rows of the linear model's coefficients for those n-grams.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np


def ngram_features() -> Any:
    """An unfitted FeatureUnion of character (2-5, within words) and word (1-2) TF-IDF vectorizers."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32))


TEXTNORM = Path(__file__).parent.parent.parent / "directory" / "textnorm.py"


def code_fingerprint(*files: str | Path) -> str:
    """A hash of `files`, of this module and of the text folding: a model over them retrains when any changes."""
    code = b"".join(Path(f).read_bytes() for f in (*files, __file__, TEXTNORM))
    return hashlib.sha256(code).hexdigest()


class TrainedOnNgrams:
    """What a Rasa component whose model reads `ngram_features()` declares: retrain when its module, these
    features or the text folding change, not only the data; scikit-learn, whose version Rasa records with the
    pickled model."""

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return code_fingerprint(sys.modules[cls.__module__].__file__ or "")

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]


def save_fitted(storage: Any, resource: Any, filename: str, fitted: dict) -> None:
    """Write a fitted model (a dict holding the sklearn objects) into the component's model storage."""
    import joblib

    with storage.write_to(resource) as path:
        joblib.dump(fitted, path / filename)


def load_fitted(storage: Any, resource: Any, filename: str) -> Optional[dict]:
    """The fitted model that `save_fitted` wrote, or None when there is none (nothing was trained)."""
    import joblib

    try:
        with storage.read_from(resource) as path:
            return joblib.load(path / filename)
    except (ValueError, FileNotFoundError):
        return None


def forget_dropped_ngrams(union: Any) -> None:
    """Drop the n-grams min_df left out, which each vectorizer keeps for introspection only (megabytes)."""
    for _, vectorizer in union.transformer_list:
        vectorizer.stop_words_ = None


class LinearScores:
    """The decision scores of a linear model over `ngram_features()` for one folded text, one per class."""

    def __init__(self, union: Any, coef: np.ndarray, intercept: np.ndarray) -> None:
        # coef: classes x features, as sklearn gives it; kept transposed so that an n-gram's row is contiguous.
        self.coef_by_ngram = np.ascontiguousarray(np.asarray(coef, dtype=np.float32).T)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.parts: List[Tuple[Any, dict, np.ndarray, int]] = []
        offset = 0
        for _, vectorizer in union.transformer_list:
            self.parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_,
                               np.asarray(vectorizer.idf_, dtype=np.float64), offset))
            offset += len(vectorizer.vocabulary_)

    def __call__(self, folded: str) -> np.ndarray:
        return self.with_evidence(folded)[0]

    def with_evidence(self, folded: str) -> Tuple[np.ndarray, Tuple[bool, ...]]:
        """The scores, and for each vectorizer (characters, words) whether the text had an n-gram it knows.

        With none known the scores are the intercepts alone; with known character n-grams but no known word,
        the text is most likely not words at all (a keyboard mash), and the scores say little.
        """
        scores, known = self.intercept.copy(), []
        for analyze, vocabulary, idf, offset in self.parts:
            counts = Counter(i for i in map(vocabulary.get, analyze(folded)) if i is not None)
            known.append(bool(counts))
            if not counts:
                continue
            index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[index]
            weights /= np.sqrt(weights @ weights)
            scores += weights @ self.coef_by_ngram[index + offset]
        return scores, tuple(known)
