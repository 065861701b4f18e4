"""The data: grouped binomial counts read and checked (``grouped``), trial-level records aggregated
into groups (``trials``), bundled datasets (``datasets/``) and seeded synthetic ones (``synthetic``)."""
