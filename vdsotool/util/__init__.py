"""Services of the build: atomic output writes (atomic.py), the encoding cache and build
records (cache.py)."""
