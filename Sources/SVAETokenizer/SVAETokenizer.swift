// SVAETokenizer: filled in by its issue.
