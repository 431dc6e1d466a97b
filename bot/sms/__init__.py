"""The SMS channel (SPEC 3.6, Twilio): the inbound webhook (`webhook`: signature, form, keywords) and
the way back (`sender`: Messages API, `split`: long replies in parts, `media`: MMS files)."""
