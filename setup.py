"""The one compiled part: the sales events' Avro reader (consumer/compiled.py says why), built by Cython from the
committed, generated ``consumer/_sales_event_reader.pyx``. Everything else is in pyproject.toml.

Optional: where it cannot be built (no C compiler), the install goes on and the codec reads with the same reader
compiled into Python, slower, and says so in a ``codec.reader`` warning at start-up. The test suite requires it
(tests/unit/consumer/test_avro_reader.py), so CI and the benchmarks never run without it."""

from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = cythonize(
    [Extension("consumer._sales_event_reader", ["consumer/_sales_event_reader.pyx"])],
    compiler_directives={"language_level": 3},
)
for extension in extensions:
    extension.optional = True  # set here: cythonize() makes new Extension objects without it
setup(ext_modules=extensions)
