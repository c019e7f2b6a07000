"""`python -m infra.cli`: the operator's command line."""

import os
import sys

from infra.cli.main import EXIT_BROKEN_PIPE, main

if __name__ == "__main__":
    code = main()
    if code == EXIT_BROKEN_PIPE:
        # Nothing more can be written; skip the interpreter's teardown, which would report
        # on the closed stream (and on event loops the SDK leaves open) to stderr.
        os._exit(code)
    sys.exit(code)
