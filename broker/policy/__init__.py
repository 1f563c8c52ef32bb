"""The statutory filter: declarative per-type policies and the function that applies them."""
