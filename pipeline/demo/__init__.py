"""A realistic demo week (figures from the newsletter's career guide)."""
