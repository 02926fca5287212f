"""Networks by name: timm backbones and local weights (``factory``), 1-D series nets (``sequence``).

Deliberately empty: each rule's code hash covers the modules its script
imports, so importing one module of this package must not pull in the others.
"""
