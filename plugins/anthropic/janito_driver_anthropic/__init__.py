"""janito-core driver package."""
