"""Network geocoding through geopy, against a local stand-in for Nominatim."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from bot import settings
from directory.build import DEFAULT_DB
from directory.facts import Directory
from directory.geocoder import Geocoder, find_place
from directory.places import NotFound, Place
from tests.nominatim_standin import StandIn


@pytest.fixture()
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def directory():
    d = Directory(DEFAULT_DB)
    yield d
    d.close()


def test_unknown_to_the_gazetteer_is_geocoded_with_an_identifying_agent(standin, directory):
    geocoder = Geocoder(url=standin.url, user_agent="Relais-test/1 (tests)")
    place = asyncio.run(find_place(directory, "Résidence imaginaire des tests", "fr", geocoder))
    assert isinstance(place, Place) and place.matched == "geocoder"
    assert abs(place.lat - 50.85) < 1e-6 and place.municipality_nis == "21004"
    request = standin.requests[0]
    assert request["user_agent"] == "Relais-test/1 (tests)"
    assert request["query"]["countrycodes"] == "be" and request["query"]["bounded"] == "1"
    assert "viewbox" in request["query"] and request["query"]["accept-language"] == "fr"


def test_house_number_on_a_known_street_gets_the_precise_point(standin, directory):
    place = asyncio.run(find_place(directory, "avenue de la toison d'or 1", None, Geocoder(url=standin.url)))
    assert place.matched == "geocoder" and abs(place.lat - 50.8368) < 1e-6 and place.municipality_nis == "21009"
    offline = asyncio.run(find_place(directory, "avenue de la toison d'or 1", None, Geocoder(url="off")))
    assert offline.kind == "street" and offline.matched == "street_of_address"


def test_gazetteer_answers_first_without_network(standin, directory):
    geocoder = Geocoder(url=standin.url)
    place = asyncio.run(find_place(directory, "Gare du Midi", None, geocoder))
    assert isinstance(place, Place) and place.kind == "station"
    assert standin.requests == []


def test_answers_are_cached(standin, directory):
    geocoder = Geocoder(url=standin.url, min_delay=0)

    async def twice():
        first = await find_place(directory, "chaussee de wavre 100", None, geocoder)
        second = await find_place(directory, "Chaussée de Wavre 100", None, geocoder)
        missing1 = await find_place(directory, "nowhere street 9", None, geocoder)
        missing2 = await find_place(directory, "nowhere street 9", None, geocoder)
        return first, second, missing1, missing2

    first, second, missing1, missing2 = asyncio.run(twice())
    assert isinstance(first, Place) and (first.lat, first.lon) == (second.lat, second.lon)
    assert isinstance(missing1, NotFound) and isinstance(missing2, NotFound)
    assert len(standin.requests) == 2


def test_an_in_memory_cache_forgets_a_typed_place_with_the_conversation(standin, directory, monkeypatch):
    monkeypatch.setenv("RELAIS_CONVERSATION_TTL", "1")
    assert settings.load().geocoder().found_ttl == 1  # the app's geocoder forgets with the conversation
    geocoder = Geocoder(url=standin.url, min_delay=0, memory_ttl=settings.load().conversation_ttl)
    asyncio.run(find_place(directory, "chaussee de wavre 100", None, geocoder))
    asyncio.run(find_place(directory, "nowhere street 9", None, geocoder))
    assert geocoder.cache.execute("select count(*) from geocode_cache").fetchone()[0] == 2
    time.sleep(1.1)
    geocoder.purge()
    assert geocoder.cache.execute("select count(*) from geocode_cache").fetchone()[0] == 0


def test_at_most_one_request_per_second(standin):
    geocoder = Geocoder(url=standin.url, min_delay=1.0, deadline=5)

    async def three():
        return await asyncio.gather(*(geocoder.geocode(q) for q in ("a street 1", "b street 2", "c street 3")))

    asyncio.run(three())
    times = sorted(r["time"] for r in standin.requests)
    assert len(times) == 3
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False))


def test_results_outside_brussels_are_refused(standin):
    assert asyncio.run(Geocoder(url=standin.url).geocode("eiffel tower")) is None


def test_unreachable_geocoder_fails_fast(directory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    place = asyncio.run(find_place(directory, "qwxzv plonk 12", None, Geocoder(url=f"http://127.0.0.1:{port}")))
    assert isinstance(place, NotFound) and place.reason == "unknown"
    assert time.monotonic() - started < 2


def test_slow_geocoder_is_cut_at_the_deadline(standin, directory):
    standin.delay = 10
    started = time.monotonic()
    place = asyncio.run(find_place(directory, "Résidence imaginaire des tests", None,
                                      Geocoder(url=standin.url, deadline=1.5)))
    assert isinstance(place, NotFound)
    assert time.monotonic() - started < 2.5


def test_geocoding_can_be_switched_off(directory):
    place = asyncio.run(find_place(directory, "Résidence imaginaire des tests", None, Geocoder(url="off")))
    assert isinstance(place, NotFound) and place.reason == "unknown"
