"""DIET reads the sentence features of the text only (nlu/components/sentence_features.py)."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components.sentence_features import SentenceFeaturesOnly


def featurized(text: str) -> Message:
    """A message as the two CountVectorsFeaturizers leave it: sequence and sentence features of its text."""
    message = Message(data={TEXT: text, INTENT: "danger"})
    tokens = len(text.split())
    for width in (5, 7):
        message.add_features(Features(scipy.sparse.random(tokens, width, density=0.5, format="coo"),
                                      FEATURE_TYPE_SEQUENCE, TEXT, f"words{width}"))
        message.add_features(Features(scipy.sparse.random(1, width, density=0.5, format="coo"),
                                      FEATURE_TYPE_SENTENCE, TEXT, f"words{width}"))
    message.add_features(Features(scipy.sparse.coo_matrix(np.ones((1, 3))), FEATURE_TYPE_SEQUENCE, INTENT, "label"))
    return message


def test_the_text_keeps_its_sentence_features_and_one_empty_position():
    message = featurized("il va me tuer")
    sentence_before = message.get_sparse_features(TEXT)[1].features.toarray()
    SentenceFeaturesOnly().process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    assert sequence.features.shape == (1, 1) and sequence.features.nnz == 0
    assert np.array_equal(sentence.features.toarray(), sentence_before)
    assert message.get_sparse_features(INTENT)[0].features.shape == (1, 3)


def test_training_examples_are_emptied_the_same_way():
    data = SentenceFeaturesOnly().process_training_data(TrainingData([featurized("help"), featurized("au secours")]))
    assert all(m.get_sparse_features(TEXT)[0].features.shape == (1, 1) for m in data.training_examples)
