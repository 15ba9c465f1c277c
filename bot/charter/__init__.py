"""The Relationship Charter: versioned settings agreed by every organisation."""
