"""Open data: the public dataset endpoints (SODA, DCAT-US, Frictionless, CKAN) served by reporting."""
