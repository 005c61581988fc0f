"""Rasa NLU component: the intent classifier, a linear model over the message's character and word n-grams.

It replaced DIET (stop 27). On the same training data, and scored on the
held-out sets of docs/nlu-eval.md, DIET (no transformer, sparse n-gram
features) read 69-79 % of issue 16's situations right and a linear support
vector machine over `ngram_features()` 81-85 %, with the held-out and fresh
sets better too; it trains in under a minute instead of four, with no
TensorFlow graph per message. With a few hundred short examples per intent
in nine languages, a wide linear model generalises better than a small
neural one that must learn its own features.

Confidences are the softmax of the decision scores times a scale chosen at
training time on held-out folds of the training data (the one that makes
the folds' probabilities best calibrated, lowest log loss), so that the
FallbackClassifier's threshold means what it says: "less than 45 % sure".

The text classified is the message's tokens as the OpeningTokenizer leaves
them (folded, an opening greeting left out), in training and at run time.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT, TEXT_TOKENS
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
from nlu.components.shared import CLASSIFIER_RANKING

MODEL_FILE = "intent_classifier.joblib"
log = logging.getLogger("relais.nlu")


def classified_text(message: Message) -> str:
    """The folded words the classifier reads: the tokens' lemmas (no opening greeting), else the folded text."""
    tokens = message.get(TEXT_TOKENS)
    if tokens:
        return " ".join(token.lemma or fold(token.text) for token in tokens)
    return fold(message.get(TEXT) or "")


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from scores along the last axis."""
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def calibrated_scale(scores: np.ndarray, gold: np.ndarray) -> float:
    """The factor on held-out decision scores whose softmax gives the right classes the lowest log loss."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(gold))

    def log_loss(scale: float) -> float:
        return float(-np.log(softmax(scores * scale)[rows, gold] + 1e-12).mean())

    return float(minimize_scalar(log_loss, bounds=(0.5, 50.0), method="bounded").x)


def fit_intents(texts: List[str], intents: List[str], c: float, folds: int, seed: int = 42) -> dict:
    """A linear SVM over n-grams of the folded `texts`, its classes and its calibrated softmax scale.

    The scale and the held-out accuracy come from `folds` models, each
    trained without the fold it scores, so they reflect unseen phrasings.
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    def pipeline() -> Any:
        return make_pipeline(ngram_features(), LinearSVC(C=c, dual=True, random_state=seed, max_iter=5000))

    x, y = np.array(texts, dtype=object), np.array(intents)
    classes = np.unique(y)
    if len(classes) < 3:  # two classes give one row of coefficients, which the scoring here does not handle
        raise ValueError(f"the intent classifier needs at least three intents, got {len(classes)}")
    held_out = np.zeros((len(y), len(classes)))
    for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        model = pipeline().fit(list(x[train]), y[train])
        held_out[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.decision_function(list(x[test]))
    gold = np.searchsorted(classes, y)
    model = pipeline().fit(texts, y)
    forget_dropped_ngrams(model.steps[0][1])
    return {"model": model, "scale": calibrated_scale(held_out, gold),
            "held_out_accuracy": float(np.mean(held_out.argmax(axis=1) == gold))}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(TrainedOnNgrams, GraphComponent, IntentClassifier):
    """Gives each message an intent and a ranking of the others, from a linear model over its n-grams."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 1.0, "folds": 5, "ranking_length": 10}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 fitted: Optional[dict] = None) -> None:
        self._config, self._storage, self._resource = config, model_storage, resource
        self._use(fitted)

    def _use(self, fitted: Optional[dict]) -> None:
        self.fitted = fitted
        self.score: Optional[LinearScores] = None
        if fitted:
            union, svm = fitted["model"].steps[0][1], fitted["model"].steps[-1][1]
            self.classes = [str(c) for c in svm.classes_]
            self.score = LinearScores(union, svm.coef_, svm.intercept_)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        fitted = fit_intents([classified_text(e) for e in examples], [e.get(INTENT) for e in examples],
                             float(self._config["C"]), int(self._config["folds"]))
        log.info("intent classifier: %d examples, %d intents, held-out accuracy %.3f, softmax scale %.2f",
                 len(examples), len(fitted["model"].steps[-1][1].classes_), fitted["held_out_accuracy"],
                 fitted["scale"])
        self._use(fitted)
        save_fitted(self._storage, self._resource, MODEL_FILE, fitted)
        return self._resource

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "LinearIntentClassifier":
        fitted = load_fitted(model_storage, resource, MODEL_FILE)
        if fitted is None:
            log.error("intent classifier: no trained model; every message goes to the fallback")
        return cls(config, model_storage, resource, fitted)

    def process_one(self, message: Message) -> None:
        # No intent until the model says otherwise (as DIET did): a failure below, a missing model or a text
        # with no n-gram the model knows ("???", "😱") leaves confidence 0, and the FallbackClassifier answers.
        message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if self.score is None or self.fitted is None:
            return
        scores, (known_chars, known_words) = self.score.with_evidence(classified_text(message))
        if not known_chars:
            return
        probabilities = softmax(scores * self.fitted["scale"])
        order = np.argsort(-probabilities)[: int(self._config["ranking_length"])]
        ranking = [{"name": self.classes[i], "confidence": float(probabilities[i])} for i in order]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        if known_words:  # what the danger component trusts: a ranking from at least one word the model knows
            message.set(CLASSIFIER_RANKING, ranking)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("LinearIntentClassifier", messages, self.process_one)
