"""``make bench``: calls per event, cold-start imports, end-to-end wall time, worker CPU and memory.

Every figure is printed beside its floor or baseline, measured in one run, and written to BENCHMARKS.md.
"""
