"""Code the program packages and deploys (one folder per function)."""
