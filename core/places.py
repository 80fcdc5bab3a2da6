"""Whether a path lies inside a root: the one rule for "never write inside the runs folder" and "links stay inside".

Both paths are resolved (links, ``..``) before comparing whole path components, so
``/runs-old`` is not inside ``/runs`` and, for a root of ``/``, every path is inside it
(comparing text against ``root + os.sep`` would test for ``//`` and let everything pass).
"""

from __future__ import annotations

import os
from pathlib import Path


def is_inside(path: Path | str, root: Path | str, *, root_resolved: bool = False) -> bool:
    """True when ``path``, links resolved, is ``root`` or lies below it.

    ``root`` is resolved too unless the caller says it already is (a reader checking many links).
    """
    real = Path(os.path.realpath(path))
    return real.is_relative_to(root if root_resolved else os.path.realpath(root))
