"""Pure policy: workflow, identity normalisation, the rules document. No I/O, no clock."""
