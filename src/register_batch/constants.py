"""Names every command's options need (choices, defaults), in a module that imports nothing.

The command line reads them when it starts, before it knows the command: kept here, `register-batch --help` and
`--version` import neither pydantic (model.py) nor the readers (lxml, yaml). model.py and readers/detect.py, where
they belong, re-export them.
"""

from __future__ import annotations

API_VERSION = "v2026.1"  # the only version Register serves (register-api.md §0)
# The services a target may name (`--target sandbox`), and their URLs (register-api.md §1).
TARGETS = {
    "sandbox": "https://sandbox.register-trainee-teachers.service.gov.uk",
    "production": "https://www.register-trainee-teachers.service.gov.uk",
}
# The input formats a reader exists for (HESA ITT XML, hesa-formats.md §1; HESA-named CSV; Register's bulk-add CSV,
# §3); `--format auto` tells them apart by content (readers/detect.py).
FORMATS = ("hesa-xml", "hesa-csv", "register-csv")
# What `export` writes (export.py) and the statuses Register lists trainees by (register-api.md §2.3): the command
# offers exactly these and the library checks them again.
EXPORT_FORMATS = ("register-csv", "hesa-xml", "json", "jsonl")
# The longest listing page a caller may ask for (`--per-page`; the client refuses more): Register has no maximum
# (register-api.md §2.3), but a page past it may be longer than an answer is read (api/client.py ANSWER_LIMIT).
PER_PAGE_MOST = 5000
TRAINEE_STATUSES = ("course_not_yet_started", "in_training", "deferred", "awarded", "withdrawn")
