from . import visit_confirmation
from . import feedback
from . import complaint_form
from . import privacy
