"""The writer's stated age becomes the `age_group` entity: minors get the youth lines first."""

from __future__ import annotations

import pytest

from nlu.components.speaker import age_group

MINORS = ["j'ai 16 ans", "jai 15ans", "g 14 ans et ma mere me frappe", "moi 13 ans", "15 ans", "J'AI 12 ANS",
          "ik ben 14", "Ik ben 15 jaar", "kben 16", "ik 13 jaar", "im 16", "I'm 15 and my dad hits me",
          "i am 17", "16 yo", "14 years old", "age 15 years"]
ADULTS = ["j'ai 34 ans", "ik ben 40", "I'm 52", "je suis agée de 70 ans", "25 years old"]
NEITHER = ["mon fils a 8 ans", "my son is 8", "j'ai 2 enfants", "j ai 3 enfants de 5 ans", "ik ben in 1060",
           "ik ben 5 minuten weg", "i m 10 minutes from flagey", "I am 1060", "1060", "16", "bus 71",
           "he hit me 3 times", "my 7 year old is scared of his dad", "il est 22h", "i am at 15 rue haute",
           "ik ben 2 keer geslagen"]


@pytest.mark.parametrize("text", MINORS)
def test_a_stated_age_under_18_is_a_minor(text):
    assert age_group(text) == "minor"


@pytest.mark.parametrize("text", ADULTS)
def test_a_stated_adult_age_is_an_adult(text):
    assert age_group(text) == "adult"


@pytest.mark.parametrize("text", NEITHER)
def test_other_numbers_say_nothing_of_the_writer(text):
    assert age_group(text) is None


def test_the_examples_in_the_docstring_run():
    import doctest

    from nlu.components import speaker

    result = doctest.testmod(speaker)
    assert result.failed == 0 and result.attempted > 0
