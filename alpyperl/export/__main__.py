"""``python -m alpyperl.export``: the same as ``alpyperl export`` (alpyperl/cli/export.py)."""

import sys

from ..cli.export import main

sys.exit(main())
