// SVAE: filled in by its issue.
