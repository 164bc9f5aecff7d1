"""Benchmarks of the persistence layer against the raw driver and the peers (docs/BENCHMARKS.md)."""
