"""One (model, fold) job: the fold loop (``fold``), epochs (``loop``), checkpoints,
inputs, augmentation, losses and prediction.

Deliberately empty: each rule's code hash covers the modules its script
imports, so importing one module of this package must not pull in the others.
"""
