"""The app's verbs: small messages that workers post and screens handle with ``@on``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from window_terminal.db.feed import FeedEvent


@dataclass
class HallEvents(Message):
    """New events from the sync layer, in order, each exactly once."""

    events: list[FeedEvent]


@dataclass
class ConnectionChanged(Message):
    """The database became unreachable (``connected=False``) or reachable again."""

    connected: bool
    error: str = ""
    problem: str = ""  # set when waiting will not help (permission, password, set-up): no more retries


@dataclass
class ActionFailed(Message):
    """A domain action was refused or failed; ``text`` is already in the screen's language."""

    text: str
