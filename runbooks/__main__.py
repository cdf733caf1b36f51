"""Entry point of `python -m runbooks`."""

from runbooks.cli import exit_now, main

exit_now(main())
