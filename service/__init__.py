"""The export service layer, between the money rules (:mod:`mapping`) and the adapters: the lifecycle's pure
decisions (:mod:`service.lifecycle`), the handlers that carry them out over a unit of work (:mod:`service.jobs`,
:mod:`service.attempts`, :mod:`service.documents`, :mod:`service.corrections`), the ports (:mod:`service.ports`,
:mod:`service.exporter`), the typed messages both sides need (:mod:`service.messages`), and the one reason-code
registry (:mod:`service.reasons`). Imports :mod:`mapping` and nothing else of ours."""
