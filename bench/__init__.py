"""Benchmarks: `python -m bench NAME [--quick]`; each measures its baseline in the same run."""
