import sys

from dayclose.cli import main

sys.exit(main())
