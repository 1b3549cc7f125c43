"""``python -m bench``: the performance figures of issues #8 and #16, each against its target in one run.

See ``bench/run.py`` for the command line, ``docs/performance.md`` for the latest figures, the capacity
model and how each figure is measured; ``python -m bench.peer`` is the lean COPY peer and
``python -m bench.capacity`` prints the capacity model from a results file.
"""
