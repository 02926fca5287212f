"""Networks by name: a registry of foldwise's own nets (``registry``), filled by the modules that
define them (time series: ``sequence``; video: ``video``; all imported by ``_builtin``), a factory
that falls back to timm for any other name (``factory``), local weights files (``state_dict``,
``weights``) and the plan-time list of names (``names``).

Deliberately empty: each rule's code hash covers the modules its script
imports, so importing one module of this package must not pull in the others.
"""
