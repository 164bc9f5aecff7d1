"""`python -m pa_core ...`: the command line of pa_core.cli."""

import sys

from pa_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
