// SVAEImport: filled in by its issue.
