"""Errors of the wiring layer."""

from __future__ import annotations


class UserError(Exception):
    """Something the user must fix (a missing option, a bad cron expression); shown as one line."""
