"""``python -m bench``: the performance figures of issue #8, each measured against its target in one run.

See ``bench/__main__.py`` for the command line and ``docs/performance.md`` for the latest figures.
"""
