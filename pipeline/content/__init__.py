"""The editors' queue: snippets, salary data points and job listings."""
