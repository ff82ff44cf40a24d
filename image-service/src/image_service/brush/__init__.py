"""The erase/restore brush on cut-outs: strokes painted on a stored mask, re-composed from the source."""
