"""The web app's wiring: FastAPI routes from every part of the product."""
