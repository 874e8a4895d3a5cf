"""Imported once by the plan workers' fork server: the program, the policy pack and their provider modules,
so that every worker forked from it starts warm (see `workers`)."""

import gc

from platform_lib.plan.runner import warm_up

# Python's recipe for a process that forks without exec (see `gc.freeze`): no collections while the
# imports build ~400k objects that live as long as the workers, then those objects are left out of every
# later collection in the workers (and their memory pages stay shared).
gc.disable()
warm_up()
gc.freeze()
gc.enable()
