"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print the table, write JSON."""

import sys

from bench.run import main

sys.exit(main())
