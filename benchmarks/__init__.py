"""Benchmarks: Baton's figures beside a baseline measured in the same run (`python -m benchmarks.run`)."""
