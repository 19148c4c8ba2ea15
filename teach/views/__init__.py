"""Every instructor page, by topic. Pages only: the rules live in the apps' services and
selectors, which these views call."""
