"""The local platform: every region of the stack files on loopback, from Debian's packages
(PostgreSQL with streaming replication, PgBouncer, redis-server), the reference application,
bounded load, and the backend the operational code drives it through (`python -m infra.cli
drill --local`)."""
