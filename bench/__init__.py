"""Benchmarks of what our code and design add to a call's silences: `python -m bench [--quick]`."""
