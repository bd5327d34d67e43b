"""Benchmarks against rdflib and rdflib-endpoint (see bench/run.py) and the data generator."""
