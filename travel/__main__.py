"""``python -m travel``."""

import sys

from travel.cli import main

sys.exit(main())
