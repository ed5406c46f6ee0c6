"""Batch creation of many records with the same defaults.

``create(vals_list)`` looks the defaults up once per record (``default_get``
for every field a record's values leave out: context defaults, ``ir.default``,
field defaults, each model's ``default_get`` override). For thousands of
records of one kind (the care messages' e-mails and SMS) they are the same for
all: looking them up once for the batch gives the same records, faster.
"""


def with_defaults(model, vals_list, per_record=()):
    """``vals_list`` completed with ``model``'s defaults, looked up once.

    Defaults that must differ between records (a unique token such as
    ``sms.sms.uuid``) are named in ``per_record``: ``create`` still makes
    them for each record. x2many defaults are left to ``create`` as well (its
    conversion of default ids into commands stays core's), and so are values
    ``create`` makes without a field default (e.g. the unique ``message_id``
    of a ``mail.message``). The values given always win over the defaults.
    """
    if not vals_list:
        return vals_list
    missing = [
        name
        for name, field in model._fields.items()
        if field.type not in ("one2many", "many2many", "properties")
        and name not in per_record
        and any(name not in vals for vals in vals_list)
    ]
    defaults = model.default_get(missing) if missing else {}
    if not defaults:
        return vals_list
    return [{**defaults, **vals} for vals in vals_list]
