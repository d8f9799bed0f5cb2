"""Reliability under load, faults and hostile input (docs/reliability.md): small bounded versions of
benchmarks/reliability.py."""
