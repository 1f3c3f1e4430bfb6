"""Lifecycle rules: what they say (rules), where they are kept (config), and, in later modules,
how they are carried out."""
