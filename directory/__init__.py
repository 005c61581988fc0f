"""Relais' directory: every contact point and fact the bot gives, with its source.

The seed files in `directory/seed/` are built from sourced data by the
importers in `directory/importers/`; `python -m directory build` turns them
into the SQLite database that the bot, the actions and the web server read.
"""
