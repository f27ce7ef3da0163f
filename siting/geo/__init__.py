"""Read the layers; distances, routed LEO round trips, merging, failure groups."""
