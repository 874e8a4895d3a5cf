"""The fraud team's example: a card-transaction scorer trained on a point-in-time training set built from
the ``transactions`` feature group (``stacks/Pulumi.fraud-dev.yaml``).

``transactions.py`` writes synthetic but internally consistent data (rolling 24-hour aggregates computed
from each card's own history; compromised cards burst into larger, more frequent spending): a feature
file to ingest and two label files (events before and after a cut-off day). ``python -m fraud`` trains the
tabular classifier of the digits example on the training set's ``amount, count_24h, amount_24h``.
"""
