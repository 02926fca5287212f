"""Process plumbing that no result depends on: logging and clean failures
(``process``), GPU claiming (``gpus``), run records and code hashes
(``provenance``), content hashes of raw inputs (``tracking``).

Code here is outside every rule's code hash (see
:func:`foldwise.runtime.provenance.code_version`): editing it re-runs nothing.
Keep anything that can change a result out of this package.
"""
