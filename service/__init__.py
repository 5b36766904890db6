"""catalog-er service package."""
