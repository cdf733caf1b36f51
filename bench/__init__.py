"""The benchmark of the gated build, `make check` and `make test` (bench/run.py; method in bench/README.md)."""
