"""Benchmarks (`ttns bench …`); figures come from here, never from timed tests."""
