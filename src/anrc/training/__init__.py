"""Training: set-up, the step, the typed state, the loop, checkpoints."""
