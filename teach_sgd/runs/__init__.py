"""The domain of the screens that run training live: the Playground's one run and Compare's pair (session.py)."""
