"""Test helpers shared by the suites and the benchmarks (not part of the product)."""
