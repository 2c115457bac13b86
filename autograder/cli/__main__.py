"""``python -m autograder.cli``: the ``dlbasics`` command."""

import sys

from autograder.cli import main

sys.exit(main())
