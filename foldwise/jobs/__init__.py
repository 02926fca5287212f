"""What every (model, fold) job shares, nets and classic families alike, without torch.

``paths`` (the files a training, refit or prediction job reads and writes),
``seeds`` (the seed of a job), ``data`` (a job's labelled rows and fold split),
``writers`` (the OOF and test-prediction files) and ``scaling`` (the mean/std
standardisation learned on a fold's training rows). None of them imports torch,
so a classic model's job runs, and its code hash is computed, without it.

Deliberately empty: each rule's code hash covers the modules its script
imports, so importing one module of this package must not pull in the others.
"""
