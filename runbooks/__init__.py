"""Verified, bilingual runbooks for a team's AI API providers, rendered from one YAML source."""
