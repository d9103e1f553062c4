"""Pure scheduling rules: jobs, triggers, fire times, trade-day filters, misfires, runs and pipelines."""
