"""An example janito-core driver."""
