"""foldwise: a reproducible k-fold competition pipeline.

Importing the package is cheap: nothing here imports torch. The heavy modules
(:mod:`foldwise.train`, :mod:`foldwise.models`, :mod:`foldwise.predict`,
:mod:`foldwise.augment`) are imported only by the rules that train.
"""

from foldwise.errors import FoldwiseError

__all__ = ["FoldwiseError", "__version__"]
__version__ = "0.1.0"
