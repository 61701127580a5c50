"""The frontend: compressed layers, the model zoo, and loading models into Relax."""
