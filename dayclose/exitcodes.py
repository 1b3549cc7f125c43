"""What ``dayclose`` exits with (documented in ``dayclose --help`` and docs/runbook.md, "Exit codes")."""

#: Done.
OK = 0
#: Not (entirely) done: an unknown id, nothing matched what was named, a confirmation declined, a replay or a
#: retry that partly failed, a service that stopped uncleanly.
FAILED = 1
#: The arguments were refused (argparse exits with it: an unknown option, a malformed date).
USAGE = 2
#: A service this command needs did not answer: PostgreSQL or Kafka (sysexits' EX_UNAVAILABLE).
UNAVAILABLE = 69
#: A setting is missing or malformed; every one is listed, one line each (sysexits' EX_CONFIG).
CONFIG = 78

EPILOG = """exit codes: 0 done; 1 not done (unknown id, nothing matched, not confirmed, partly failed); 2 bad arguments;
69 PostgreSQL or Kafka did not answer; 78 a setting is missing or malformed (each one listed)"""
