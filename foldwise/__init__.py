"""foldwise: a reproducible k-fold competition pipeline.

The package follows the DAG's stages, and each rule's code hash covers only the
modules its script imports: ``data/`` (tables, image and series caches),
``folds``, ``train/`` (the fold job, epochs, checkpoints, inputs,
augmentation, losses, test prediction), ``models/``, ``oof`` (gather),
``ensemble``, ``submission``, ``leaderboard``, with ``tasks`` and ``metrics``
shared. ``runtime/`` is plumbing outside every hash. Importing the package is
cheap: nothing here imports torch.
"""

from foldwise.errors import FoldwiseError

__all__ = ["FoldwiseError", "__version__"]
__version__ = "0.3.0"
