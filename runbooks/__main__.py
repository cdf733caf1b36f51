"""Entry point of `python -m runbooks`."""

import sys

from runbooks.cli import main

sys.exit(main())
