"""What every package of the project may use: database basics and the root of the error tree.

Nothing here imports :mod:`pipeline` or :mod:`subscribers`; both import from here.
"""
