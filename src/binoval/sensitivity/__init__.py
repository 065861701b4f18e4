"""Prior sensitivity stage: power-scaling of the prior and of the likelihood (Kallioinen et al. 2023).

``powerscale`` computes the sensitivity table and the power-scaling sequence of one fit, ``plots`` draws
the sequence, ``check`` turns the table into the stage's status. Importing this package is light: the
heavy libraries (PyMC, arviz-stats, matplotlib) are imported inside the functions that need them.
"""
