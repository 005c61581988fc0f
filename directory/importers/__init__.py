"""Importers that turn sourced source data into the directory's seed files."""
