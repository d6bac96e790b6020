"""Engine behind the video classifier dashboard: models, features, inference, metrics, CLIs."""
