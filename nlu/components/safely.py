"""Run a component's work on each message so that one failure loses nothing else.

A custom NLU component that raises on one message (a lone surrogate once
crashed spaCy's tokenizer) would make Rasa drop the whole turn, danger
answer included. Each Relais component handles each message through
`each_safely`: a failure leaves that message as the previous components made
it, is logged as the exception's type and file:line (never the text), and the
pipeline goes on, so the danger lexicon and the rules still answer.
"""

from __future__ import annotations

import logging
from typing import Callable, List

from rasa.shared.nlu.training_data.message import Message

from bot.logsafe import describe

log = logging.getLogger("relais.nlu")


def each_safely(component: str, messages: List[Message], handle: Callable[[Message], None]) -> List[Message]:
    for message in messages:
        try:
            handle(message)
        except Exception as exc:
            log.error("%s skipped a message: %s", component, describe(exc))
    return messages
