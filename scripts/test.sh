#!/usr/bin/env bash
# README command two (and CI): install, lint, then run the whole test suite on two workers.
# Benchmarks are not tests: run them with `.venv/bin/pytest tests/benchmarks -m benchmark -s`.
# QUANTLAKE_TEST_WORKERS overrides the worker count (0 runs the suite in this process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check .
# Two workers at most: the integration tests start servers and child processes of their own,
# and a machine with more cores usually runs more than one suite. tests/conftest.py makes the
# units of work (a module; the kill and serve tests together) and orders them, first the longest
# (hence --no-loadscope-reorder).
cores="$(nproc 2>/dev/null || echo 1)"
workers="${QUANTLAKE_TEST_WORKERS:-$((cores < 2 ? cores : 2))}"
echo "==> pytest ($workers workers)"
exec .venv/bin/pytest tests -m "not benchmark" -n "$workers" --dist loadscope \
  --no-loadscope-reorder --durations=25 "$@"
