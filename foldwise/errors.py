"""The one exception type for problems a user can cause and fix."""


class FoldwiseError(Exception):
    """A user-fixable problem: bad CSV, missing image, config typo, mismatched ids.

    The message names the file (and row or key) and says what to fix. Workflow
    scripts let it propagate; :func:`foldwise.runtime.process.run_step` prints it as one
    line and exits non-zero.
    """
