"""Design-space exploration: sweep a model's configuration space on Dask, store, find the front.

space.py (parse + enumerate) -> point.py (one configuration = named stages in its own build
folder) -> execute.py (Dask: local cluster or --scheduler) -> store.py (SQLite) -> pareto.py.
"""
