"""One exception type for bad user input: the CLI prints its message on one line and exits 2."""

import sys


class CodesignError(Exception):
    """A user-facing error: the message names the model, file, node or parameter at fault."""


def fail(e: BaseException) -> int:
    """The one error path of every verb: `codesign: error: <message>` on stderr, exit code 2."""
    print(f"codesign: error: {e}", file=sys.stderr)
    return 2
