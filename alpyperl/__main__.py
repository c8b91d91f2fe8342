"""``python -m alpyperl``: the ``alpyperl`` command line (see alpyperl/cli/)."""

import sys

from .cli import main

sys.exit(main())
