"""Which snapshot last changed a dataset (lives in warehouse/lake.py, shared with flows)."""

from warehouse.lake import last_change

__all__ = ["last_change"]
