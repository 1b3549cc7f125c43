"""The one compiled part: the sales events' Avro reader (consumer/compiled.py says why), built by Cython from the
committed, generated ``consumer/_sales_event_reader.pyx``. Everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("consumer._sales_event_reader", ["consumer/_sales_event_reader.pyx"])],
        compiler_directives={"language_level": 3},
    )
)
