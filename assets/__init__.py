"""Files shipped inside the package: the default model the runtime loads (see README.md here)."""
