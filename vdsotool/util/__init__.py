"""Services of the build: atomic output writes (atomic.py)."""
