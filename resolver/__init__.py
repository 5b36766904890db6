"""catalog-er resolver package."""
