"""Reports read from the store: weekly digests and alert listings."""
