from . import visit_confirmation
