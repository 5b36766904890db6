"""catalog-er fingerprint package."""
