"""The editors' desk: accounts, sessions, the admin web pages and the JSON API."""
