"""What every model family shares: typed configs with a hash, reading marts at a lake commit."""
