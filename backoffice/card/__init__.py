"""The reference BackOffice integration card (issue #26): the Björn Lundén card as the merchant guide walks it,
server-rendered, served by ``dayclose api`` under ``/card/`` when ``DAYCLOSE_CARD_ENABLED`` is on. It calls the
product only through the API's own operations (:mod:`backoffice.card.api`); docs/ui.md lists which call each
screen makes and how BackOffice can embed or copy it."""
