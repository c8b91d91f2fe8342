"""``python -m alpyperl``: the ``alpyperl`` command line (see alpyperl/cli.py)."""

import sys

from .cli import main

sys.exit(main())
