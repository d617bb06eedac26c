"""Contract lint: the pitfalls a backend engineer looks for in a spec review, as rules."""
