"""A program whose error text looks like console markup."""

raise ValueError("team must match ^[a-z]{1,18}$, got [bold]risk")
