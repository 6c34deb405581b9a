"""Virtual trials: scenario -> arms of virtual patients -> endpoints -> statistics."""
