"""Relais' custom actions (rasa-sdk), served by `python -m rasa_sdk --actions actions`.

The first conversations (greeting, danger, helplines) are plain responses that
need no action server; actions that query the directory are added here.
"""
