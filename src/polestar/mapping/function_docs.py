"""What each custom mapping function does, in words, for the generated ``docs/mappings.md``.

Kept beside ``functions.py`` rather than in it: the table is prose, and a test
checks it names exactly the functions ``PolicingFunctions`` defines.
"""

from __future__ import annotations

FUNCTION_DOCS: tuple[tuple[str, str, str], ...] = (
    (
        "to_utc(date, time, zone)",
        "A local date (`YYYY-MM-DD`) and time (`HH:MM` or `HH:MM:SS`) in `zone` as ISO 8601 UTC. "
        "In the repeated autumn hour the first (summer-time) reading is taken; "
        "a time in the spring gap fails.",
        "`to_utc(date(arrest_date, '%d/%m/%Y'), arrest_time, 'Europe/London')`",
    ),
    (
        "datetime(value, format, zone)",
        "Local date and time text read with a `strptime` format, in `zone` unless the format has `%z`; "
        "gives ISO 8601 UTC.",
        "`datetime(created, '%Y-%m-%d %H:%M:%S', 'Europe/London')`",
    ),
    (
        "date(value, format)",
        "A date read with a `strptime` format, as `YYYY-MM-DD`.",
        "`date(dob, '%d/%m/%Y')`",
    ),
    (
        "format_date(value, format)",
        "An ISO date (or the date part of a date-time) written with a `strftime` format.",
        "`format_date(data.date_of_birth.value, '%d/%m/%Y')`",
    ),
    (
        "local_time(value, format, zone)",
        "An ISO 8601 date-time shown in `zone` with a `strftime` format (outbound).",
        "`local_time(data.arrived_at, '%d/%m/%Y %H:%M', 'Europe/London')`",
    ),
    ("upper(text)", "Upper case.", "`upper(postcode)`"),
    ("lower(text)", "Lower case.", "`lower(email)`"),
    ("strip(text)", "Without leading and trailing white space.", "`strip(surname)`"),
    (
        "split(text, separator)",
        "The parts between separators, each stripped; empty parts are dropped.",
        "`split(middle_names, ' ')`",
    ),
    ("replace(text, old, new)", "Every `old` replaced by `new`.", "`replace(crn, ' ', '')`"),
    (
        "concat(value, ...)",
        "The values joined as text; `null` counts as empty.",
        "`concat(station, '/', number)`",
    ),
    (
        "default(value, fallback)",
        "`value`, or `fallback` when it is `null` or empty text.",
        "`default(suite, 'Charing Cross')`",
    ),
    (
        "coalesce(value, ...)",
        "The first value that is neither `null` nor empty text.",
        "`coalesce(mobile, home_phone)`",
    ),
    (
        "code(list, value)",
        "The canonical code for a system code from a code list; a miss fails naming the list and the "
        "value unless the list has a `default`.",
        "`code('custody-gender', sex)`",
    ),
    (
        "decode(list, value)",
        "The system code for a canonical code (the first listed wins); a miss fails unless the list has "
        "a `reverse_default`.",
        "`decode('custody-gender', data.gender)`",
    ),
    (
        "stable_id(kind, part, ...)",
        "A uuid5 over the connector, `kind` and the parts: the same record always gives the same id. "
        "Every part must be present.",
        "`stable_id('person', custody_no)`",
    ),
    (
        "stable_id_from(connector, kind, part, ...)",
        "The id `stable_id(kind, part, ...)` gives under another connector: for linking to a record that "
        "connector's mapping made.",
        "`stable_id_from('cad', 'incident', cad.body.incidentNumber)`",
    ),
    ("id_of(output)", "The id given to an earlier output of this mapping, for links.", "`id_of('detainee')`"),
    (
        "context(name)",
        "Where the record came from: `connector`, `source`, `where`, `reference`, `received_at`, `actor`, "
        "`correlationid` or `headers`.",
        "`context('received_at')`",
    ),
    (
        "record()",
        "The whole record, from inside a repeated output or `$each` where `@` is the item.",
        "`record().incident_no`",
    ),
    ("index()", "The position (from 0) of the current item of a repeated output or `$each`.", "`index()`"),
)
"""Each custom function's call, meaning and an example, for ``docs/mappings.md``."""
