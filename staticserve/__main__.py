"""``python -m staticserve``: the same command as ``staticserve``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
