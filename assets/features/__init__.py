"""Point-in-time features and forward-return labels over curated daily bars."""
