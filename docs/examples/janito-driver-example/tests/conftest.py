"""Makes ``wire.py`` importable from the test modules next to it.

The workspace runs pytest with ``--import-mode=importlib``, which leaves ``sys.path`` alone; in a
repository of your own with pytest's default mode this file is not needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
