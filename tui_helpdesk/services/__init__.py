"""Use cases. Each takes a session (the caller's unit of work), an actor and `now`; each
writes its own audit events; none prints, commits or reads the clock."""
