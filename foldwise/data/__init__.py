"""Raw competition files to cached arrays: tables (``tables``), images and series (``images``, ``series``).

Deliberately empty: each rule's code hash covers the modules its script
imports, so importing one module of this package must not pull in the others.
"""
