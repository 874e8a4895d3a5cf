"""Imported once by the plan workers' fork server: the program and its provider modules, so that every
worker forked from it starts warm (see `runner._pool`)."""

from platform_lib.plan.runner import warm_up

warm_up()
