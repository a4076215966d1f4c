"""Persistence: typed SQLAlchemy 2.0 models and the unit-of-work functions the pipeline calls.

SQLite file by default (embedded, zero set-up); any SQLAlchemy URL (PostgreSQL) by configuration.
"""
