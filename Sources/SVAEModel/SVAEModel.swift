// SVAEModel: filled in by its issue.
