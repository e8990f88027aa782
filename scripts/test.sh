#!/usr/bin/env bash
# README command two (and CI): install, lint, then run the whole test suite.
# Benchmarks are not tests: run them with `.venv/bin/pytest tests/benchmarks -m benchmark -s`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check .
echo "==> pytest"
exec .venv/bin/pytest tests -m "not benchmark" "$@"
