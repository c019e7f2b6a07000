"""The reference application: the smallest real application that keeps the platform's
contract with application teams (see `reference_app/app.py`)."""
