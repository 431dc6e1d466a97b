"""The email channel (SPEC 3.7): raw messages in from SendGrid, Mailgun or any MTA (`inbound`), read
into a frozen `InboundEmail` (`message`, `html_text`), and replies composed (`reply`) and sent by SMTP
(`smtp`)."""
