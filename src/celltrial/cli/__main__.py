"""``python -m celltrial.cli``: the same as the ``celltrial`` console script.

Example:
    $ python -m celltrial.cli --version
"""

from . import main

if __name__ == "__main__":  # not on import (e.g. by a doctest collector)
    main()
