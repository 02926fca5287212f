"""Figures and tables for ``snakemake --report``, made from files already in ``results/``.

One module per kind of figure, so that each plot rule's code hash covers only
the code that draws it: ``board`` (leaderboard table and fold scores),
``curves`` (learning curves), ``predictions`` (confusion matrix, per-class
recall, calibration, class distribution), ``ensembles`` (blend weights) and
``jobs`` (wall time, throughput, GPU memory). Nothing here trains or predicts.
"""
