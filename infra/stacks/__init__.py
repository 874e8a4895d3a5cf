"""The two kinds of stack: the shared platform of an environment, and one team's slice of it."""
