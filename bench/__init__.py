"""Benchmarks of the embedded lake (``make bench``); each module also runs alone.

Run ``python -m bench.run_all [--quick]`` or ``python -m bench.<name> [--quick]``. Results are
printed and written as JSON to ``bench/results/<name>.json``. Benchmarks are not tests: they
assert nothing and only report figures against targets.
"""
