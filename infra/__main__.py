"""Entry point of `pulumi up` / `pulumi preview` for every stack in stacks/."""

from infra.program import main

main()
