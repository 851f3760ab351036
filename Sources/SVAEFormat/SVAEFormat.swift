// SVAEFormat: filled in by its issue.
