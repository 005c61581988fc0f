"""The directory database schema (SQLite).

Shaped after Open Referral HSDS, reduced to what Relais needs:
services (with names, texts, taxonomy codes, phone, sources, confidence and
check date), locations (pharmacies and services' places, each with its
precision), schedules, trainings, the municipalities, police zones and
postcodes of Brussels, and the gazetteer of places people name. Two
virtual tables make queries fast: an R*Tree over locations for `nearest`,
and FTS5 indexes for `search` and fuzzy place names.
"""

from __future__ import annotations

import sqlite3

from directory import languages

TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE taxonomy (
  code TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('category', 'audience', 'topic')),
  {label_columns},
  PRIMARY KEY (kind, code));

CREATE TABLE services (
  id TEXT PRIMARY KEY, {service_name_columns}, short_name TEXT NOT NULL,
  category_source TEXT NOT NULL, categories TEXT NOT NULL, audiences TEXT NOT NULL,
  topics TEXT NOT NULL, languages TEXT NOT NULL, phone TEXT NOT NULL, phone_note TEXT NOT NULL,
  chat_or_online TEXT NOT NULL, hours_source TEXT NOT NULL, cost TEXT NOT NULL,
  address TEXT NOT NULL, address_note TEXT NOT NULL, scope TEXT NOT NULL, police_zone TEXT,
  source_urls TEXT NOT NULL, confidence TEXT NOT NULL CHECK (confidence IN ('confirmed', 'partly', 'unconfirmed')),
  notes TEXT NOT NULL, checked TEXT NOT NULL);

CREATE TABLE service_languages (
  service_id TEXT PRIMARY KEY REFERENCES services(id), position INTEGER NOT NULL,
  languages TEXT NOT NULL, confidence TEXT NOT NULL CHECK (confidence IN ('confirmed', 'partly')),
  source TEXT NOT NULL, interpreting TEXT, checked TEXT NOT NULL);

CREATE TABLE service_categories (service_id TEXT NOT NULL REFERENCES services(id), category TEXT NOT NULL,
  PRIMARY KEY (category, service_id));

CREATE TABLE service_texts (
  service_id TEXT NOT NULL REFERENCES services(id), field TEXT NOT NULL, lang TEXT NOT NULL,
  text TEXT NOT NULL, checked TEXT NOT NULL, PRIMARY KEY (service_id, field, lang));

CREATE TABLE schedules (
  service_id TEXT NOT NULL REFERENCES services(id), weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  opens INTEGER NOT NULL, closes INTEGER NOT NULL);
CREATE INDEX schedules_service ON schedules(service_id);

CREATE TABLE context (
  id TEXT NOT NULL, lang TEXT NOT NULL, text TEXT NOT NULL, source TEXT NOT NULL, confidence TEXT NOT NULL,
  checked TEXT NOT NULL, PRIMARY KEY (id, lang));

CREATE TABLE municipalities (
  nis TEXT PRIMARY KEY, name_fr TEXT NOT NULL, name_nl TEXT NOT NULL, postcodes TEXT NOT NULL,
  police_zone TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  min_lat REAL NOT NULL, min_lon REAL NOT NULL, max_lat REAL NOT NULL, max_lon REAL NOT NULL,
  geometry TEXT NOT NULL, source TEXT NOT NULL);

CREATE TABLE police_zones (
  code TEXT PRIMARY KEY, name_fr TEXT NOT NULL, name_nl TEXT NOT NULL, municipalities TEXT NOT NULL,
  confidence TEXT NOT NULL, source TEXT NOT NULL, checked TEXT NOT NULL);

CREATE TABLE postcodes (
  postcode TEXT PRIMARY KEY, municipality_nis TEXT NOT NULL REFERENCES municipalities(nis),
  lat REAL NOT NULL, lon REAL NOT NULL, source TEXT NOT NULL);

CREATE TABLE locations (
  id INTEGER PRIMARY KEY, ref TEXT NOT NULL UNIQUE, kind TEXT NOT NULL CHECK (kind IN ('pharmacy', 'service')),
  service_id TEXT REFERENCES services(id), name TEXT NOT NULL, address TEXT NOT NULL, postcode TEXT NOT NULL,
  municipality TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  precision TEXT NOT NULL CHECK (precision IN ('address', 'street', 'municipality')),
  status TEXT NOT NULL, source TEXT NOT NULL, checked TEXT NOT NULL, confidence TEXT NOT NULL);
CREATE INDEX locations_service ON locations(service_id);

CREATE TABLE location_categories (location_id INTEGER NOT NULL REFERENCES locations(id), category TEXT NOT NULL,
  PRIMARY KEY (category, location_id)) WITHOUT ROWID;
CREATE INDEX location_categories_location ON location_categories(location_id, category);

CREATE VIRTUAL TABLE locations_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon);

CREATE TABLE trainings (
  id TEXT PRIMARY KEY, {title_columns},
  organiser TEXT NOT NULL, organiser_id TEXT, audiences TEXT NOT NULL, topics TEXT NOT NULL,
  languages TEXT NOT NULL, {format_columns},
  url TEXT NOT NULL, venue_lat REAL, venue_lon REAL, source TEXT NOT NULL, confidence TEXT NOT NULL,
  checked TEXT NOT NULL);

CREATE TABLE places (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, name_fr TEXT NOT NULL, name_nl TEXT NOT NULL,
  name_en TEXT NOT NULL, category TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  municipality_nis TEXT, source TEXT NOT NULL);

CREATE TABLE place_names (key TEXT NOT NULL, place_id TEXT NOT NULL REFERENCES places(id), rank INTEGER NOT NULL,
  PRIMARY KEY (key, place_id)) WITHOUT ROWID;

CREATE VIRTUAL TABLE place_names_fts USING fts5(key, tokenize = 'trigram');

CREATE VIRTUAL TABLE search_index USING fts5(
  doc_type UNINDEXED, doc_id UNINDEXED, short, name, body, tokenize = 'unicode61 remove_diacritics 2');
"""


def _per_language(prefix: str, kind: str) -> str:
    """One column per language of the registry: `label_fr TEXT NOT NULL, label_nl TEXT NOT NULL, ...`."""
    return ", ".join(f"{prefix}_{lang} {kind}" for lang in languages.codes())


def tables() -> str:
    """The schema, with a text column per language Relais speaks (directory/languages.yml)."""
    return (TABLES.replace("{label_columns}", _per_language("label", "TEXT NOT NULL"))
            .replace("{service_name_columns}", _per_language("name", "TEXT"))
            .replace("{title_columns}", _per_language("title", "TEXT NOT NULL"))
            .replace("{format_columns}", _per_language("format", "TEXT NOT NULL")))


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(tables())
