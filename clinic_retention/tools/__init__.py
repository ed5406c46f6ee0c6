from . import phone
from . import clinic_time
from . import recall_sql
from . import locale_dates
