"""Wiring: configuration, the CLI, the per-article pipeline, the scheduler and the demo."""
