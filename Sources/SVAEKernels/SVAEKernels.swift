// SVAEKernels: filled in by its issue.
