from zquant_kit.persistence.migrations import run_env

run_env()
