"""Repository hygiene: the lock, the template, the policies, the package exports agree with the code (no emulators)."""
