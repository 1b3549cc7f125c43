"""The subcommands of ``dayclose``, one module per group. Each module has ``register(subparsers)``, which adds its
commands with their help; :mod:`dayclose.cli` lists the modules. A command function takes the parsed arguments
and returns an exit code (:mod:`dayclose.exitcodes`)."""
