"""The operator's command line, `python -m infra.cli`: plan, routing, policy verdicts and the
report (`main`), the operational commands (`ops_commands`), the terminal rendering
(`render`) and the exit codes every command shares (`errors`)."""
