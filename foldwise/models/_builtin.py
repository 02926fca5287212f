"""Register foldwise's own nets: importing this imports every module that decorates builders.

:mod:`foldwise.models.factory` imports it; so does :func:`foldwise.models.names.registry`,
which lists the registered names in ``names.txt``. A new module of nets is added here.
"""

from foldwise.models import sequence, video  # noqa: F401  (registered on import)
