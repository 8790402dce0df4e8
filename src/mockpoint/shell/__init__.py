"""``mockpoint shell``: a charge point driven by hand, or line by line from a script."""
