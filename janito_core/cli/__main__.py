"""``python -m janito_core.cli``: the same as the ``janito-drivers`` console script."""

from __future__ import annotations

import sys

from janito_core.cli.app import main

sys.exit(main())
