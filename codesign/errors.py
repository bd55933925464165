"""One exception type for bad user input: the CLI prints its message on one line and exits 2."""


class CodesignError(Exception):
    """A user-facing error: the message names the model, file, node or parameter at fault."""
