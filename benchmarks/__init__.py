"""The benchmarks: run them from the repository's root as modules
(`python -m benchmarks.bench`), as benchmarks/run and benchmarks/chaos do."""
