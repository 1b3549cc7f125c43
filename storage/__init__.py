"""PostgreSQL storage: the unit of work (:mod:`storage.uow`), one repository per aggregate, the stored forms
(:mod:`storage.codecs`), the API's read models, and the migrations with their runner (:mod:`storage.migrate`).
Imports the service layer and the money rules, nothing above them."""
