"""The money rules: POS sales + an account plan → balanced vouchers. Pure: no I/O of any kind.

Import what you need from its module (:mod:`mapping.totals_booking` books a store-day's totals,
:mod:`mapping.totals_closing` decides a day close, :mod:`mapping.plan` is the account plan, …); this package
re-exports nothing, so there is one way in to each rule."""
