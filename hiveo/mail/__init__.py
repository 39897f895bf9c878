"""E-mail that is never lost: an outbox written with the change, sent after commit.

`outbox.enqueue()` adds a message to the caller's transaction; nothing leaves
for a change that is rolled back. After a request's transaction commits with
new messages, `send_pending()` runs at the end of the request; `flask mail
send` (cron) sends the rest and retries failures with back-off.
"""
