"""The CDN providers behind `components/cdn_distribution.py`, one module each."""
