"""The app's screens: the main screen (main.py: every action of the app's keys, on actors.py's
actors and their tasks) and the modal dialogs it awaits, each dismissed with its answer."""

from __future__ import annotations

from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.app.screens.help import HelpScreen
from trainsync_tui.app.screens.history import HistoryScreen

__all__ = ["ConfirmDeleteScreen", "ConflictScreen", "HelpScreen", "HistoryScreen"]
