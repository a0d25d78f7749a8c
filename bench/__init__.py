"""Benchmarks: each prints its figures and the ratio to its target."""
