"""What readers did with an issue: signed click tracking, opens, human vs machine, reports."""
