"""Model families beyond torch: ROCKET, HYDRA and QUANT transforms, linear heads, ExtraTrees, LightGBM.

A model entry with ``family: minirocket | multirocket | hydra | multirocket_hydra |
quant | lightgbm | logistic`` is trained once per fold by the same ``train`` rule (and predicted by the same
``predict`` rule) as the nets, writing the same files, so ``gather``,
ensembles, submissions and the leaderboard treat it like any model.

Deliberately empty: each classic model's code hash covers only the modules its
family uses (:func:`foldwise.classic.families.code_version`), so importing one
module of this package must not pull in the others.
"""
