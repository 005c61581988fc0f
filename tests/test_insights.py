"""Anonymous counts (issue 17): what a turn counts, what is stored, and that suppression holds under subtraction."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.insights import header_value, tally, turn_from_header
from bot.web.insights import csv_text
from directory.insights import (
    NONE,
    THRESHOLD,
    TOTAL,
    Counts,
    InsightsError,
    StaffSearch,
    Table,
    Turn,
    publish,
    suppress_week,
    suppressed,
    week_of,
)

MONDAY = datetime(2026, 11, 23, 10, tzinfo=timezone.utc)
AREAS = [f"2100{i}" for i in range(1, 10)] + ["21010", "21011", "21012"]
RARE = "21012"


def relations_hold(cells: dict, total) -> bool:
    """No figure of a week is alone in being suppressed: none can be found as the total minus the others."""
    return (list(cells.values()) + [total]).count(None) != 1


def test_every_figure_under_the_threshold_is_suppressed_and_none_is_alone():
    rng = random.Random(17)
    for _ in range(2000):
        categories = [f"c{i}" for i in range(rng.randint(1, 12))]
        counts = {c: rng.choice([0, 1, 2, 5, 9, 10, 11, 14, 30, 200]) for c in categories}
        cells, total = suppress_week(counts, categories)
        assert all(v is None or v >= THRESHOLD for v in cells.values())
        assert all(cells[c] is None for c in categories if counts[c] < THRESHOLD)
        assert (total is None) == (sum(counts.values()) < THRESHOLD)
        assert relations_hold(cells, total), (counts, cells, total)


def population(path, rare: int, seed: int = 1) -> Counts:
    counts = Counts(path)
    rng = random.Random(seed)
    for area in AREAS:
        for _ in range(rare if area == RARE else rng.randint(3, 40)):
            counts.add(Turn(situation="find_nearby", area=area), MONDAY)
    return counts


def candidates(before: dict, after: dict) -> list[str]:
    """The categories an attacker holding both tables could place the one added conversation in."""
    if before[TOTAL] is not None and after[TOTAL] is not None:
        assert after[TOTAL] == before[TOTAL] + 1
    found = []
    for c in after:
        if c == TOTAL:
            continue
        a, b = before[c], after[c]
        if (a is None and b is None) or (a is not None and b is not None and b == a + 1) or \
                (a is None and b is not None and b == THRESHOLD) or (a is not None and b is None):
            found.append(c)
    return found


def test_two_tables_that_differ_by_one_conversation_do_not_reveal_its_rare_municipality(tmp_path):
    for seed in range(30):
        path = tmp_path / f"c{seed}.db"
        counts = population(path, rare=3, seed=seed)
        week = week_of(MONDAY)
        before = suppressed(counts, "area", AREAS, week)
        counts.add(Turn(situation="danger", area=RARE), MONDAY)
        after = suppressed(counts, "area", AREAS, week)
        assert before[RARE] is None and after[RARE] is None
        suspects = candidates(before, after)
        assert RARE in suspects and len(suspects) >= 2, (seed, suspects)
        counts.close()


def test_the_store_holds_codes_per_dimension_and_never_a_row_that_crosses_two(tmp_path):
    counts = Counts(tmp_path / "c.db")
    counts.add(Turn(situation="danger", language="fr", area=RARE, nothing=None), MONDAY)
    counts.add(Turn(situation="il me frappe zqx", language="fr"), MONDAY)  # not a code: dropped
    counts.add(StaffSearch(found=False), MONDAY)
    rows = sqlite3.connect(tmp_path / "c.db").execute("select week, dimension, value, n from counts").fetchall()
    assert sorted(rows) == sorted([
        ("2026-W48", "situation", "danger", 1), ("2026-W48", "situation", NONE, 1), ("2026-W48", "language", "fr", 2),
        ("2026-W48", "area", RARE, 1), ("2026-W48", "area", NONE, 1), ("2026-W48", "band", "06-12", 2),
        ("2026-W48", "nothing", NONE, 2), ("2026-W48", "staff", "no_result", 1)])
    tables = [t for t in sqlite3.connect(tmp_path / "c.db").execute("select name from sqlite_master")]
    assert tables == [("counts",), ("published",)]


def test_the_week_and_the_band_are_brussels_time():
    late = datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)  # Monday 00:30 in Brussels
    assert week_of(late) == "2026-W49" and week_of(late - timedelta(hours=1)) == "2026-W48"


def turn_events(*events):
    return [ActionExecuted("action_listen"), UserUttered("earlier", {"name": "greet"}), BotUttered("hi"),
            ActionExecuted("action_listen"), *events]


def test_a_turn_counts_its_intent_its_searched_municipality_and_what_it_did_not_find():
    found = tally(turn_events(UserUttered("help near 1170", {"name": "find_nearby", "confidence": 0.9}),
                              SlotSet("search_area", RARE), BotUttered("Near Watermael-Boitsfort: ...")), "fr")
    assert found == {"situation": "find_nearby", "area": RARE, "language": "fr"}
    nothing = tally(turn_events(UserUttered("help near zqx", {"name": "find_nearby"}),
                                BotUttered("?", metadata={"utter_action": "utter_place_unknown"})), "en")
    assert nothing == {"situation": "find_nearby", "nothing": "place_unknown", "language": "en"}
    fallback = tally(turn_events(UserUttered("zqx zqx", {"name": "nlu_fallback"})), None)
    assert fallback == {"situation": "nlu_fallback"}  # in the situations only: no second table repeats it
    earlier_area = tally([SlotSet("search_area", RARE), *turn_events(UserUttered("merci", {"name": "thanks"}))], "fr")
    assert "area" not in earlier_area  # only what this turn did


def test_the_web_server_takes_codes_only_from_the_channel_header():
    assert turn_from_header(header_value({"situation": "danger", "language": "ar"})) == \
        Turn(situation="danger", language="ar")
    assert turn_from_header('{"situation": "il me frappe", "session": "abc12345", "area": "21012"}') == \
        Turn(area="21012")
    for bad in (None, "", "not json", "[1]", "x" * 2000, "[" * 999):
        assert turn_from_header(bad) is None


@pytest.mark.parametrize("label", ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)"])
def test_the_csv_cannot_carry_a_formula(label):
    table = Table("situation", ["2026-W48"], ["danger"], {("2026-W48", "danger"): 12}, {"2026-W48": 12})
    text = csv_text([table], {"situation": {"danger": label}})
    assert f",'{label[0]}" in text.replace('"', "")


def test_every_chat_table_adds_up_to_the_same_turns_and_staff_searches_are_apart(tmp_path):
    """No figure of one table is the total of another minus its shown cells: every chat dimension counts
    every chat turn once (NONE where the turn has no value), and staff searches are a table of their own."""
    counts = Counts(tmp_path / "c.db")
    for i in range(40):
        counts.add(Turn(situation="find_nearby", language="fr", area="21004" if i % 3 else None,
                        nothing="nothing_near" if i % 5 == 0 else None), MONDAY + timedelta(hours=i))
    for i in range(4):
        counts.add(StaffSearch(found=bool(i % 2)), MONDAY)
    week = week_of(MONDAY)
    fixed = {"situation": ["find_nearby", NONE], "language": ["fr", "nl", NONE], "area": ["21004", NONE],
             "band": ["00-06", "06-12", "12-18", "18-24"], "nothing": ["nothing_near", NONE]}
    assert {dim: publish(counts, dim, cats, [week]).totals[week] for dim, cats in fixed.items()} == \
        dict.fromkeys(fixed, 40)
    assert publish(counts, "staff", ["found", "no_result"], [week]).totals[week] is None
    counts.close()


def test_a_published_week_never_changes_and_a_running_week_is_not_published(tmp_path):
    """A week is frozen when first published: a new category later (a new intent) cannot change which
    figures are suppressed, which would let the two versions be subtracted."""
    counts = Counts(tmp_path / "c.db")
    for situation, times in (("a", 30), ("b", 12), ("c", 3)):
        for _ in range(times):
            counts.add(Turn(situation=situation), MONDAY)
    week = week_of(MONDAY)
    first = publish(counts, "situation", ["a", "b", "c"], [week])
    assert [first.cell(week, c) for c in "abc"] == [30, None, None] and first.totals[week] == 45
    later = publish(counts, "situation", ["a", "b", "c", "new"], [week])
    assert [later.cell(week, c) for c in ("a", "b", "c", "new")] == [30, None, None, None]
    counts.add(Turn(situation="b"), MONDAY)  # a count that came late changes nothing published
    assert publish(counts, "situation", ["a", "b", "c"], [week]).totals[week] == 45
    with pytest.raises(InsightsError, match="has not ended"):
        publish(counts, "situation", ["a"], [week_of(datetime.now(timezone.utc))])
    counts.close()
