"""Email in and out (DESIGN §6): mailboxes and MIME parsing for intake (`mailboxes`, `parse`,
`mime_text`, `fetch`), SMTP delivery of the outbox (`smtp`, `compose`). Channels call
services; services never import channels."""
