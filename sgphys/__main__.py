"""``python -m sgphys ...`` is the ``sgphys`` command line (:mod:`sgphys.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
