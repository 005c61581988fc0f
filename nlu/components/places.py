"""Rasa NLU component: finds the Brussels places the directory knows, as `place` entities.

Why not Rasa lookup tables? The gazetteer holds ~22,000 names (municipalities
in FR/NL/EN and short forms, postcodes, stations, stops, streets, squares,
neighbourhoods, aliases). Lookup tables would turn them into one giant
regular expression per entity, retrained with the model, matched on the raw
text: accents, hyphens, apostrophes and case would all have to be spelled in
the table ("Saint-Gilles", "saint gilles", "St-Gilles"...), and French
elisions ("gare d'Anderlecht") would break word boundaries. Here:
- the message is split by spaCy's tokenizer for the language chosen on the
  page (`spacy.blank(code)`, the registry's default when none was chosen, so
  "d'Anderlecht" gives "d'" + "Anderlecht");
- each token is folded the way the directory folds its names (no accents,
  lower case), and a spaCy PhraseMatcher fed from the directory's own
  `place_names` finds every known name, longest match first;
- the names come from the built directory at start-up, so a new street or
  alias there is found without retraining, and the entity value is the
  directory key that `resolve_place` understands.
Single common words that are also place names ("parc", "gare", "midi") are
left out unless they are part of a longer name.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from bot import settings
from directory import languages
from directory.facts import Directory
from directory.textnorm import fold
from nlu.components.safely import each_safely

ENTITY = "place"
KINDS = ("municipality", "postcode", "station", "stop", "place", "street")
# One-word names that are everyday words too: matched only inside longer names.
COMMON = {
    "parc", "park", "gare", "station", "place", "plein", "centre", "centrum", "center", "eglise", "kerk", "ecole",
    "school", "police", "politie", "hopital", "marche", "markt", "pharmacie", "apotheek", "metro", "tram", "bus",
    "danger", "gevaar", "aide", "hulp", "help", "paix", "vrede", "liberte", "roi", "koning", "reine", "nord",
    "noord", "sud", "zuid", "midi", "ouest", "west", "est", "oost", "rue", "straat", "avenue", "laan", "porte",
    "poort", "maison", "huis", "home", "cite", "stad", "ville", "city", "beurs", "bourse", "justice", "justitie",
    "merci", "bonjour", "hallo", "hello", "thanks", "viol", "femmes", "vrouwen", "women", "enfants",
    "kinderen", "children", "famille", "familie", "family", "ami", "vriend", "friend", "travail", "werk", "work",
    "loi", "wet", "law", "vie", "leven", "life", "liberty", "peace", "arts", "science", "sciences",
    "nation", "nations", "europe", "europa", "union", "commune", "gemeente", "campus", "clinique", "kliniek",
    "clinic", "cinema", "theatre", "musee", "museum", "stade", "stadion", "piscine", "zwembad", "bois", "bos",
    "foret", "voisin", "voisins", "buren", "neighbours", "neighbors", "ticket", "tickets",
}


@lru_cache(maxsize=None)
def _tokenizer(lang: str):
    return spacy.blank(languages.known(lang) or "xx").tokenizer


def load_names(path: Path) -> List[str]:
    """The folded place names worth matching, from a built directory."""
    try:
        directory = Directory(path)
    except (FileNotFoundError, sqlite3.Error):
        return []
    try:
        names = directory.place_keys(KINDS)
    except sqlite3.Error:
        return []
    finally:
        directory.close()
    keys = []
    for key in names:
        words = key.split()
        if not words or (len(words) == 1 and (key in COMMON or (len(key) < 4 and not key.isdigit()))):
            continue
        keys.append(key)
    return keys


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class PlaceExtractor(GraphComponent, EntityExtractorMixin):
    """`place` entities for the places of the directory's gazetteer."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, names: List[str]):
        self.vocab = spacy.blank("xx").vocab
        self.matcher = PhraseMatcher(self.vocab)
        patterns = [Doc(self.vocab, words=key.split()) for key in names]
        for start in range(0, len(patterns), 5000):
            self.matcher.add(f"PLACE{start}", patterns[start:start + 5000])
        self.size = len(patterns)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "PlaceExtractor":
        for lang in languages.codes():
            _tokenizer(lang)  # load now, not on a user's first message
        return cls(load_names(settings.load().db))

    def find(self, text: str, lang: Optional[str] = None) -> List[dict]:
        """Place entities in `text`: value (the directory key), start, end."""
        if not text or not self.size:
            return []
        tokens = []
        for token in _tokenizer(lang or languages.default())(text[:2000]):
            for match in re.finditer(r"\w+", token.text):
                folded = fold(match.group(0))
                if folded:
                    tokens.append((folded, token.idx + match.start(), token.idx + match.end()))
        if not tokens:
            return []
        doc = Doc(self.vocab, words=[t[0] for t in tokens])
        spans = filter_spans([doc[s:e] for _, s, e in self.matcher(doc)])
        return [{"entity": ENTITY, "value": span.text, "start": tokens[span.start][1],
                 "end": tokens[span.end - 1][2], "confidence_entity": 1.0, "extractor": self.__class__.__name__}
                for span in spans]

    def process_one(self, message: Message) -> None:
        metadata = message.get("metadata") or {}
        language = metadata.get("language") if isinstance(metadata, dict) else None
        found = self.find(message.get(TEXT) or "", language)
        if found:
            others = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
            message.set(ENTITIES, others + found, add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        return each_safely("PlaceExtractor", messages, self.process_one)
