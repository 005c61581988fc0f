"""Relais' custom actions (rasa-sdk), served by `python -m bot.action_server` (rasa-sdk behind a token).

- `nearby`: the nearest pharmacies, EVA cell, CPVS and services to a place;
- `lookup`: a service, number or training by name or keyword (helpline staff);
- `lines`: which lines answer in the user's language, and where to get an interpreter.
Emergency and helpline answers are plain responses: they need no action server.
"""

from actions.lines import ActionLineLanguages  # noqa: F401
from actions.lookup import ActionLookup  # noqa: F401
from actions.nearby import ActionFindNearby, ActionMoreResults  # noqa: F401
