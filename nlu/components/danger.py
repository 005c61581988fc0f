"""Rasa NLU component: "danger now" is never left to the intent classifier alone.

The intent classifier is trained on many ways of saying "I am in danger now",
but a statistical model can miss a phrasing it has never seen, and among some
thirty intents it can be unsure even when right. This component runs
after it and before the FallbackClassifier, and makes the message a `danger`
intent (confidence 1.0, the only intent in the ranking; the rules then
answer 112 / 101 first) when

1. the folded message matches a pattern of `danger_lexicon.yml` (any
   language, since the language of a short panicked message is often
   unclear), or
2. its own detector, trained on the same NLU data to tell danger from
   everything else (character and word n-grams, logistic regression with
   balanced classes), gives danger a probability at or above a threshold chosen at
   training time on held-out folds of the training data: the lowest that
   would have taken at most `max_false_alarms` of the other examples for
   danger. It is a safety net under the classifier and the lexicon, which
   catch most danger messages; it catches phrasings both missed, or
3. the intent classifier's own ranking (kept apart from what later
   components make of it, and only when the message has a word the
   classifier knows) has danger with at least `min_confidence`, and
   first, or second behind a first guess that the FallbackClassifier
   would not take: below `unsure_below` (its threshold) or within
   `ambiguous_within` of danger (its ambiguity threshold). A danger message
   of the fresh Portuguese set read 0.39 harassment in public space, 0.32
   danger: unsure, Relais answers as if in danger rather than "I did not
   understand". A known word and `min_confidence` keep a keyboard mash
   from being danger: 70 of 500 random strings were, without the word.

Missing a person in danger costs far more than a false alarm, which only
puts 112 / 101 and the helpline first (docs/nlu-eval.md counts both).
"""

from __future__ import annotations

import logging
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from directory.textnorm import fold
from nlu.components.ngrams import (
    LinearScores,
    TrainedOnNgrams,
    forget_dropped_ngrams,
    load_fitted,
    ngram_features,
    save_fitted,
)
from nlu.components.safely import each_safely
from nlu.components.shared import CLASSIFIER_RANKING, compiled_patterns

LEXICON = Path(__file__).with_name("danger_lexicon.yml")
DANGER_INTENT = "danger"
DETECTOR_FILE = "danger_detector.joblib"
log = logging.getLogger("relais.nlu")


@lru_cache(maxsize=1)
def patterns() -> tuple:
    """The compiled patterns of all languages."""
    return compiled_patterns(LEXICON, "danger_patterns")


def matching_pattern(text: Optional[str]) -> Optional[str]:
    """The first lexicon pattern that the folded text matches, or None."""
    return folded_match(fold(text or ""))


def folded_match(folded: str) -> Optional[str]:
    """The first lexicon pattern that an already folded text matches, or None."""
    if not folded:
        return None
    for pattern in patterns():
        if pattern.search(folded):
            return pattern.pattern
    return None


def fit_detector(texts: List[str], is_danger: List[bool], max_false_alarms: float, seed: int = 42) -> dict:
    """A danger-vs-rest detector and its threshold, from folded training texts.

    The threshold is the lowest probability that would have taken at most
    `max_false_alarms` of the other examples for danger when each was scored
    by a model trained without it (5 folds), so it reflects unseen phrasings.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    def pipeline():
        return make_pipeline(ngram_features(), LogisticRegression(class_weight="balanced", C=4.0, max_iter=3000))

    y = np.array(is_danger)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    held_out = cross_val_predict(pipeline(), texts, y, cv=folds, method="predict_proba")[:, 1]
    threshold = float(np.quantile(held_out[~y], 1.0 - max_false_alarms))
    model = pipeline().fit(texts, y)
    forget_dropped_ngrams(model.steps[0][1])
    return {"model": model, "threshold": threshold,
            "held_out_recall": float(np.mean(held_out[y] >= threshold)),
            "held_out_false_alarms": float(np.mean(held_out[~y] >= threshold))}


def danger_probability(model: Any) -> Callable[[str], float]:
    """The detector's probability of danger for one folded text, as `model.predict_proba` gives it."""
    scores = LinearScores(model.steps[0][1], model.steps[-1][1].coef_, model.steps[-1][1].intercept_)

    def probability(folded: str) -> float:
        z = float(scores(folded)[0])
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    return probability


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class DangerLexicon(TrainedOnNgrams, GraphComponent):
    """Overrides the intent with `danger` when the lexicon matches, the detector is above its threshold or the
    classifier leans to danger (the module's docstring says when)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"max_false_alarms": 0.03, "unsure_below": 0.45, "ambiguous_within": 0.05, "min_confidence": 0.25}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 detector: Optional[dict] = None) -> None:
        self._config, self._storage, self._resource = config, model_storage, resource
        self.detector = detector
        self.score = danger_probability(detector["model"]) if detector else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "DangerLexicon":
        patterns()  # fail at start-up, not on a user's message, if the lexicon is broken
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        texts = [fold(e.get(TEXT)) for e in examples]
        labels = [e.get(INTENT) == DANGER_INTENT for e in examples]
        if any(labels) and not all(labels):
            self.detector = fit_detector(texts, labels, float(self._config["max_false_alarms"]))
            self.score = danger_probability(self.detector["model"])
            log.info("danger detector: threshold %.3f, held-out recall %.3f, false alarms %.3f",
                     self.detector["threshold"], self.detector["held_out_recall"],
                     self.detector["held_out_false_alarms"])
            save_fitted(self._storage, self._resource, DETECTOR_FILE, self.detector)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "DangerLexicon":
        patterns()
        return cls(config, model_storage, resource, load_fitted(model_storage, resource, DETECTOR_FILE))

    def detected(self, folded: str) -> bool:
        """True when the detector gives danger at least its threshold (the text folded as in training)."""
        if not self.detector or not folded:
            return False
        return self.score(folded) >= self.detector["threshold"]

    def classifier_leans_to_danger(self, message: Message) -> bool:
        """True when the classifier's own ranking has danger first, or second behind a guess the fallback refuses."""
        ranking = message.get(CLASSIFIER_RANKING) or []
        names = [r.get("name") for r in ranking[:2]]
        if DANGER_INTENT not in names:
            return False
        danger = float(ranking[names.index(DANGER_INTENT)].get("confidence") or 0.0)
        if danger < float(self._config["min_confidence"]):
            return False
        first = float(ranking[0].get("confidence") or 0.0)
        return names[0] == DANGER_INTENT or first < float(self._config["unsure_below"]) \
            or first - danger < float(self._config["ambiguous_within"])

    def process_one(self, message: Message) -> None:
        folded = fold(message.get(TEXT) or "")
        if not self.classifier_leans_to_danger(message) and not folded_match(folded) and not self.detected(folded):
            return
        danger = {"name": DANGER_INTENT, "confidence": 1.0}
        # The classifier's own guesses are dropped, not kept below danger: a
        # confident second intent (0.96) would make the FallbackClassifier call
        # the turn ambiguous and answer "I did not understand" to a knife.
        message.set(INTENT, danger, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [danger], add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("DangerLexicon", messages, self.process_one)
