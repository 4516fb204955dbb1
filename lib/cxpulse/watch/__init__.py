"""``cxpulse watch``: alerts between reports, pushed once per episode.

- ``params``: ``params/alerts.yaml`` (the rules, who is told, quiet hours), validated once;
- ``rules``: what each rule sees in the recent window of the warehouse (pure, Ibis);
- ``episodes``: when an alert starts, continues, ends or escalates, and when it may go
  (quiet hours); pure, over a plain state that ``command`` keeps between runs;
- ``messages``: the e-mail and the webhook JSON of one notification (pure);
- ``command``: the run itself (lock, inbox, state file, outbox, e-mail, webhook, log).
"""
