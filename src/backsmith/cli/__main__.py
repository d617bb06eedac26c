"""`python -m backsmith.cli`: the command line, as `python -m backsmith`."""

import sys

from backsmith.cli.main import main

sys.exit(main())
