"""The app's modal screens: conflicts, history, delete confirmation and help."""

from __future__ import annotations

from trainsync_tui.app.screens.confirm_delete import ConfirmDeleteScreen
from trainsync_tui.app.screens.conflicts import ConflictScreen
from trainsync_tui.app.screens.help import HelpScreen
from trainsync_tui.app.screens.history import HistoryScreen

__all__ = ["ConfirmDeleteScreen", "ConflictScreen", "HelpScreen", "HistoryScreen"]
