"""`python -m backsmith`: the command line, as the `backsmith` script."""

import sys

from backsmith.cli.main import main

sys.exit(main())
