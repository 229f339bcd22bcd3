"""Prefect flows and deployments: thin wrappers over ``voc``; no analysis logic here."""
