"""Benchmarks, each starting its own stack: ``python -m bench wechat``, ``python -m bench handoff``."""
