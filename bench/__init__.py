"""The build benchmark: synthetic data, the plain MkDocs baseline and the runner (bench/run.py)."""
