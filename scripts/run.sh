#!/usr/bin/env bash
# README command one: install, then run one full cycle on the embedded defaults
# (the seeded market simulator, the paper broker, the lakehouse in ./data).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/quantlake run "$@"
