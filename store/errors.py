"""Store failures the CLI turns into one clear line."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be opened, created or written (bad path, permissions, lock)."""
